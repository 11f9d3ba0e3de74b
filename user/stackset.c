// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include "slotindex.h"
#include "array.h"
#include "stackset.h"

struct stack_ent {
	uint64_t hash;
	uint32_t off, n;
};

static uint64_t hash_pcs(const uint64_t *pcs, int n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < n; i++)
		h = (h ^ pcs[i]) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

static int rehash(struct stackset *s)
{
	return slotindex__grow(&s->slots, &s->nslots, s->ents, s->nents,
			       sizeof(*s->ents), offsetof(struct stack_ent, hash));
}

int stackset__intern(struct stackset *s, const uint64_t *pcs, int n,
		     uint32_t *id)
{
	uint64_t h = hash_pcs(pcs, n);
	struct stack_ent *e;
	size_t j;
	int err;

	if ((s->nents + 1) * 2 > s->nslots && (err = rehash(s)))
		return err;
	for (j = h & (s->nslots - 1); s->slots[j]; j = (j + 1) & (s->nslots - 1)) {
		e = &s->ents[s->slots[j] - 1];
		if (e->hash == h && e->n == (uint32_t)n &&
		    !memcmp(s->pcs + e->off, pcs, n * sizeof(*pcs))) {
			*id = s->slots[j] - 1;
			return 0;
		}
	}
	if ((err = array__grow((void **)&s->pcs, &s->cap_pcs, s->npcs + n,
			sizeof(*s->pcs))) ||
	    (err = array__grow((void **)&s->ents, &s->cap_ents, s->nents + 1,
			sizeof(*s->ents))))
		return err;
	memcpy(s->pcs + s->npcs, pcs, n * sizeof(*pcs));
	s->ents[s->nents] = (struct stack_ent){ .hash = h, .off = s->npcs,
						.n = n };
	s->npcs += n;
	*id = s->nents;
	s->slots[j] = ++s->nents;
	return 0;
}

const uint64_t *stackset__get(const struct stackset *s, uint32_t id, int *n)
{
	*n = s->ents[id].n;
	return s->pcs + s->ents[id].off;
}

void stackset__free(struct stackset *s)
{
	free(s->pcs);
	free(s->ents);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

int stackset_map__get(struct stackset_map *m, uint32_t from_id,
		      uint32_t *to_id)
{
	const uint64_t *pcs;
	uint32_t *ids;
	int n, err;

	if (from_id >= m->from->nents)
		return -EINVAL;
	/* from may have grown since the last call. */
	if (from_id >= m->nids) {
		ids = realloc(m->ids, m->from->nents * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		memset(ids + m->nids, 0,
		       (m->from->nents - m->nids) * sizeof(*ids));
		m->ids = ids;
		m->nids = m->from->nents;
	}
	if (!m->ids[from_id]) {
		pcs = stackset__get(m->from, from_id, &n);
		err = stackset__intern(m->to, pcs, n, to_id);
		if (err)
			return err;
		m->ids[from_id] = *to_id + 1;
	}
	*to_id = m->ids[from_id] - 1;
	return 0;
}

void stackset_map__free(struct stackset_map *m)
{
	free(m->ids);
	m->ids = NULL;
	m->nids = 0;
}
