// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "mapcopy.h"

/* Larger than either map's key or value. */
#define MAX_ELEM 64

static uint32_t tgid_at(const void *keys, size_t key_size, size_t i)
{
	uint32_t tgid;

	memcpy(&tgid, (const char *)keys + i * key_size, sizeof(tgid));
	return tgid;
}

static void swap_elem(void *base, size_t size, size_t i, size_t j)
{
	char tmp[MAX_ELEM], *a = (char *)base + i * size,
			    *b = (char *)base + j * size;

	memcpy(tmp, a, size);
	memcpy(a, b, size);
	memcpy(b, tmp, size);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The bucket of tgid among the sorted distinct tgids. */
static size_t bucket_of(const uint32_t *tgids, size_t n, uint32_t tgid)
{
	const uint32_t *t = bsearch(&tgid, tgids, n, sizeof(*tgids), cmp_u32);

	return t - tgids;
}

/* American flag sort, one pass: every element is swapped straight into
 * its process's bucket. Traced processes are few, so finding the
 * distinct tgids first costs little. */
int map_copy__group(void *keys, size_t key_size, void *vals,
		    size_t val_size, size_t n)
{
	uint32_t *tgids = NULL, *more, tgid;
	size_t ntgids = 0, cap = 0, i, b, to, *next = NULL, *end = NULL;
	int err = -ENOMEM;

	if (key_size > MAX_ELEM || val_size > MAX_ELEM)
		return -EINVAL;
	if (n < 2)
		return 0;
	for (i = 0; i < n; i++) {
		tgid = tgid_at(keys, key_size, i);
		if (ntgids && bsearch(&tgid, tgids, ntgids, sizeof(*tgids),
				      cmp_u32))
			continue;
		if (ntgids == cap) {
			cap = cap * 2 + 16;
			more = realloc(tgids, cap * sizeof(*tgids));
			if (!more)
				goto out;
			tgids = more;
		}
		tgids[ntgids++] = tgid;
		qsort(tgids, ntgids, sizeof(*tgids), cmp_u32);
	}
	next = calloc(ntgids + 1, sizeof(*next));
	end = calloc(ntgids + 1, sizeof(*end));
	if (!next || !end)
		goto out;
	for (i = 0; i < n; i++)
		end[bucket_of(tgids, ntgids, tgid_at(keys, key_size, i))]++;
	for (b = 0, i = 0; b < ntgids; b++) {
		next[b] = i;
		i += end[b];
		end[b] = i;
	}
	for (b = 0; b < ntgids; b++) {
		while (next[b] < end[b]) {
			to = bucket_of(tgids, ntgids,
				       tgid_at(keys, key_size, next[b]));
			if (to == b) {
				next[b]++;
				continue;
			}
			swap_elem(keys, key_size, next[b], next[to]);
			swap_elem(vals, val_size, next[b], next[to]);
			next[to]++;
		}
	}
	err = 0;
out:
	free(tgids);
	free(next);
	free(end);
	return err;
}

/* [*first, *first + *count) of the grouped keys hold tgid. */
static void range_of(const void *keys, size_t key_size, size_t n,
		     uint32_t tgid, size_t *first, size_t *count)
{
	size_t lo = 0, hi = n, mid, start;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (tgid_at(keys, key_size, mid) < tgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	start = lo;
	hi = n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (tgid_at(keys, key_size, mid) <= tgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = start;
	*count = lo - start;
}

int map_copy__read(struct map_copy *m, const struct probes *probes)
{
	int err;

	err = probes__read_parked(probes, &m->gkeys, &m->parked, &m->nparked);
	if (!err)
		err = probes__read_sites(probes, &m->skeys, &m->sites,
					 &m->nsites);
	if (!err)
		err = probes__counters(probes, &m->counters);
	if (!err)
		err = map_copy__group(m->gkeys, sizeof(*m->gkeys), m->parked,
				      sizeof(*m->parked), m->nparked);
	if (!err)
		err = map_copy__group(m->skeys, sizeof(*m->skeys), m->sites,
				      sizeof(*m->sites), m->nsites);
	m->fill = (struct map_fill){ .parked = m->nparked, .sites = m->nsites };
	probes__map_sizes(probes, &m->fill.parked_max, &m->fill.sites_max);
	return err;
}

void map_copy__process(const struct map_copy *m, pid_t pid,
		       struct gtable_source *src)
{
	size_t first, n;

	/* An empty range stays NULL: the maps may be (NULL, 0). */
	range_of(m->gkeys, sizeof(*m->gkeys), m->nparked, pid, &first, &n);
	src->gkeys = n ? m->gkeys + first : NULL;
	src->parked = n ? m->parked + first : NULL;
	src->nparked = n;
	range_of(m->skeys, sizeof(*m->skeys), m->nsites, pid, &first, &n);
	src->skeys = n ? m->skeys + first : NULL;
	src->sites = n ? m->sites + first : NULL;
	src->nsites = n;
}

void map_copy__free(struct map_copy *m)
{
	free(m->gkeys);
	free(m->parked);
	free(m->skeys);
	free(m->sites);
	*m = (struct map_copy){};
}
