/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labcheck: the arena self-check that `make demo` runs until labfwd lands.
 *
 * It reads the config, maps an arena (hugepages or the 4 KiB fallback), grows
 * it, carves every chamber into cells, checks that no cell straddles a chamber
 * or an IOVA-contiguous unit and that each cell's IOVA range is contiguous,
 * writes and verifies a pattern in every cell, releases and regrows chambers,
 * and prints what it did. Exit 0 when all holds, 1 for bad usage or config,
 * 2 when a check fails.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_arena.h>
#include <labyrinth/lab_config.h>
#include <labyrinth/lab_log.h>

#include "../cli.h"

struct totals {
	unsigned long cells;
	unsigned long bad;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: labcheck [--config FILE] [--set section.key=value]... [--chambers N]\n"
		"  --config FILE   read FILE (INI, see config/labyrinth.conf) over the defaults\n"
		"  --set K=V       override one key, e.g. --set arena.hugepages=off\n"
		"  --chambers N    grow the arena to N chambers (default 4)\n"
		"  --dump-config   print the effective config and exit\n"
		"examples:\n"
		"  labcheck --config config/labyrinth.conf\n"
		"  labcheck --set arena.hugepages=off --set log.arena=debug\n");
}

static struct lab_arena *open_arena(const struct lab_config *cfg, unsigned int max)
{
	struct lab_arena_opts o;

	lab_arena_opts_init(&o);
	o.name = cfg->name;
	o.page_size = cfg->page_size;
	o.iova_mode = cfg->iova_mode;
	o.numa_node = cfg->numa_node;
	o.max_chambers = max;
	o.flags = lab_hugepages_arena_flags(cfg->hugepages);
	return lab_arena_create(&o);
}

/* Check one cell's placement and IOVA, then stamp it with its number. */
static void check_cell(struct lab_arena *a, const struct lab_cell_layout *l,
		       const struct lab_chamber_info *ci, unsigned int cell, struct totals *t)
{
	uint64_t iova;
	char *va = lab_arena_cell(a, l, ci->index, cell, &iova);
	size_t off = (size_t)(va - (char *)ci->va);
	uint64_t stamp = ((uint64_t)ci->index << 32) | cell;

	if (off + l->cell_size > ci->len || off / l->unit != (off + l->cell_size - 1) / l->unit)
		t->bad++, fprintf(stderr, "labcheck: chamber %u cell %u straddles a boundary\n",
				 ci->index, cell);
	if (lab_arena_iova(a, va) != iova ||
	    lab_arena_iova(a, va + l->cell_size - 1) != iova + l->cell_size - 1)
		t->bad++, fprintf(stderr, "labcheck: chamber %u cell %u IOVA not contiguous\n",
				 ci->index, cell);
	memcpy(va, &stamp, sizeof(stamp));
	memset(va + sizeof(stamp), (int)(cell & 0xff), l->cell_size - sizeof(stamp));
	t->cells++;
}

static void verify_cell(struct lab_arena *a, const struct lab_cell_layout *l, unsigned int ch,
			unsigned int cell, struct totals *t)
{
	char *va = lab_arena_cell(a, l, ch, cell, NULL);
	uint64_t stamp;

	memcpy(&stamp, va, sizeof(stamp));
	if (stamp != (((uint64_t)ch << 32) | cell) ||
	    (unsigned char)va[l->cell_size - 1] != (cell & 0xff))
		t->bad++, fprintf(stderr, "labcheck: chamber %u cell %u lost its pattern\n", ch,
				 cell);
}

static void walk(struct lab_arena *a, const struct lab_cell_layout *l, struct totals *t,
		 bool verify)
{
	struct lab_chamber_info ci;

	for (unsigned int ch = 0; ch < lab_arena_chamber_slots(a); ch++) {
		if (lab_arena_chamber(a, ch, &ci) < 0)
			continue;
		for (unsigned int c = 0; c < l->per_chamber; c++) {
			if (verify)
				verify_cell(a, l, ch, c, t);
			else
				check_cell(a, l, &ci, c, t);
		}
	}
}

static int run(const struct lab_config *cfg, unsigned int chambers)
{
	struct lab_arena_stats st;
	struct lab_chamber_info ci;
	struct lab_cell_layout l;
	struct totals t = { 0 }, v = { 0 };
	struct lab_arena *a = open_arena(cfg, chambers);
	unsigned int grown = 1, released = 0;

	if (a == NULL) {
		fprintf(stderr, "labcheck: cannot create the arena: %s\n", lab_strerror(lab_errno));
		return 1;
	}
	while (grown < chambers && lab_arena_grow(a) >= 0)
		grown++;
	if (lab_arena_layout(a, cfg->cell_size, 64, &l) < 0) {
		lab_arena_destroy(a);
		return 1;
	}
	lab_arena_chamber(a, 0, &ci);
	printf("labcheck: arena '%s': %u chamber(s) of %zu KiB from %s, iova=%s, NUMA node %d\n",
	       lab_arena_name(a), grown, lab_arena_page_size(a) / LAB_KIB,
	       lab_backing_name(ci.backing), lab_iova_mode_name(lab_arena_iova_mode(a)),
	       ci.numa_node);
	walk(a, &l, &t, false);
	walk(a, &l, &v, true);
	printf("labcheck: %u cells of %llu bytes per chamber (stride %zu); %lu cells carved, "
	       "IOVA-checked, written and read back\n", l.per_chamber,
	       (unsigned long long)cfg->cell_size, l.stride, t.cells);
	for (unsigned int ch = 1; ch < grown; ch++)
		released += lab_arena_release(a, ch) == 0;
	for (unsigned int i = 0; i < released; i++)
		if (lab_arena_grow(a) < 0)
			t.bad++;
	lab_arena_stats(a, &st);
	printf("labcheck: released %u chamber(s) and grew them back: %u mapped, %llu grows, "
	       "%llu releases, %llu failed grows\n", released, st.chambers,
	       (unsigned long long)st.grows, (unsigned long long)st.releases,
	       (unsigned long long)st.grow_failures);
	lab_arena_destroy(a);
	printf("labcheck: %s (%lu problem(s))\n", t.bad + v.bad ? "FAILED" : "OK", t.bad + v.bad);
	return t.bad + v.bad ? 2 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'f' }, { "set", required_argument, NULL, 's' },
		{ "chambers", required_argument, NULL, 'n' }, { "dump-config", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },	      { NULL, 0, NULL, 0 },
	};
	struct lab_config cfg;
	unsigned long chambers = 4;
	bool dump = false;
	char *end;
	int c;

	lab_config_defaults(&cfg);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:s:n:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (lab_config_load(&cfg, optarg) < 0)
				return 1;
			break;
		case 's':
			if (lab_config_set_arg(&cfg, optarg) < 0) {
				fprintf(stderr, "labcheck: --set %s\n", lab_config_error());
				return 1;
			}
			break;
		case 'n':
			chambers = strtoul(optarg, &end, 10);
			if (*end != '\0' || chambers < 1 || chambers > 1024) {
				fprintf(stderr, "labcheck: --chambers '%s': want 1 to 1024\n", optarg);
				return 1;
			}
			break;
		case 'd':
			dump = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			cli_bad_option("labcheck", argv, c);
			return 1;
		}
	}
	if (optind < argc) {
		cli_usage_error("labcheck", "unexpected argument '%s'", argv[optind]);
		return 1;
	}
	if (lab_config_validate(&cfg) < 0 || lab_config_apply_logs(&cfg) < 0) {
		fprintf(stderr, "labcheck: config: %s\n", lab_config_error());
		return 1;
	}
	if (dump) {
		lab_config_dump(&cfg, stdout);
		return 0;
	}
	return run(&cfg, (unsigned int)chambers);
}
