/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labblk --metrics ADDR:PORT: the pools' and the warden's Prometheus page over
 * HTTP while the jobs run, served by lib/ctl's HTTP thread (never by a job).
 * The same option and the same checks as labfwd's; a run key of the command
 * line only (jobfile.c), as output is.
 */
#include <string.h>

#include <labyrinth/lab_common.h>
#include <labyrinth/lab_ctl.h>

#include "labblk.h"

/* At option time: a bad address is a usage error before anything opens. */
int metrics_check(const struct run *r)
{
	char err[256];

	if (r->metrics == NULL)
		return 0;
	if (lab_metrics_http_check(r->metrics, r->metrics_remote, err, sizeof(err)) < 0) {
		fprintf(stderr, "labblk: --metrics %s\n", err);
		return -1;
	}
	return 0;
}

struct lab_metrics_http *metrics_open(const struct run *r, FILE *out)
{
	struct lab_metrics_http_opts mo;
	struct lab_metrics_http *h;

	lab_metrics_http_opts_init(&mo);
	mo.listen = r->metrics;
	mo.allow_remote = r->metrics_remote;
	h = lab_metrics_http_open(&mo);
	if (h == NULL) {
		fprintf(stderr, "labblk: --metrics %s: %s\n", r->metrics, strerror(lab_errno));
		return NULL;
	}
	/* A scraper or a test waits for this line: the port is listening. */
	fprintf(out, "labblk: metrics http://%s/metrics\n", lab_metrics_http_addr(h));
	fflush(out);
	return h;
}
