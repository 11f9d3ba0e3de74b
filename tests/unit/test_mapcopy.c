// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* map_copy: both maps grouped by process in place, each entry's key and
 * value kept together, and each process finding exactly its own range. */
#include <errno.h>
#include <stdlib.h>
#include "mapcopy.h"
#include "tap.h"

#define N 100000

static void test_group_random(void)
{
	static const uint32_t pids[] = { 4242, 7, 99999, 300, 0 };
	struct map_copy m = { .nparked = N };
	size_t i, counts[5] = {}, seen[5] = {};
	bool paired = true, sorted = true, own = true;
	struct gtable_source src;

	m.gkeys = calloc(N, sizeof(*m.gkeys));
	m.parked = calloc(N, sizeof(*m.parked));
	if (!ASSERT_TRUE(m.gkeys && m.parked, "allocated"))
		goto out;
	srand(1);
	for (i = 0; i < N; i++) {
		int p = rand() % 5;

		m.gkeys[i] = (struct glt_gkey){ .tgid = pids[p], .g = i };
		m.parked[i] = (struct glt_parked){ .goid = i * 8 + pids[p] };
		counts[p]++;
	}
	ASSERT_EQ(map_copy__group(m.gkeys, sizeof(*m.gkeys), m.parked,
				  sizeof(*m.parked), N), 0, "grouped");
	for (i = 0; i < N; i++) {
		paired &= m.parked[i].goid == m.gkeys[i].g * 8 + m.gkeys[i].tgid;
		sorted &= !i || m.gkeys[i - 1].tgid <= m.gkeys[i].tgid;
	}
	ASSERT_TRUE(paired, "every key keeps its value");
	ASSERT_TRUE(sorted, "grouped in tgid order");
	for (i = 0; i < 5; i++) {
		size_t j;

		map_copy__process(&m, pids[i], &src);
		seen[i] = src.nparked;
		for (j = 0; j < src.nparked; j++)
			own &= src.gkeys[j].tgid == pids[i] &&
			       src.parked[j].goid == src.gkeys[j].g * 8 + pids[i];
	}
	ASSERT_TRUE(own, "each process's range holds its entries only");
	ASSERT_TRUE(!memcmp(seen, counts, sizeof(seen)),
		    "each process's range holds all its entries");
	map_copy__process(&m, 12345, &src);
	ASSERT_EQ(src.nparked, 0, "a process without entries: an empty range");
	ASSERT_EQ(src.nsites, 0, "no sites: an empty range");
out:
	map_copy__free(&m);
}

static void test_group_edges(void)
{
	struct glt_skey keys[3] = { { .tgid = 5, .pc = 1 }, { .tgid = 5, .pc = 2 },
				    { .tgid = 5, .pc = 3 } };
	struct glt_site sites[3] = { { 1, 0 }, { 2, 0 }, { 3, 0 } };

	ASSERT_EQ(map_copy__group(keys, sizeof(*keys), sites, sizeof(*sites),
				  0), 0, "no entries");
	ASSERT_EQ(map_copy__group(keys, sizeof(*keys), sites, sizeof(*sites),
				  3), 0, "one process");
	ASSERT_TRUE(keys[0].pc == 1 && keys[2].pc == 3 && sites[1].spawned == 2,
		    "one process: left as it was");
	ASSERT_EQ(map_copy__group(keys, 1000, sites, sizeof(*sites), 3),
		  -EINVAL, "oversized elements refused");
}

int main(void)
{
	test_group_random();
	test_group_edges();
	return tap__done();
}
