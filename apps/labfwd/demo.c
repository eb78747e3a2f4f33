/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The embedded demo (labfwd with no arguments): the bundled sample, made at
 * build time by mksample, replayed through the pool into a temporary capture
 * that is then checked against the input frame by frame. The capture is
 * removed at every exit (atexit: the stop signals end the run normally),
 * kept only when the check fails, so that it can be looked at.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "labfwd.h"

#ifndef LABFWD_SAMPLE
#define LABFWD_SAMPLE "sample.pcap"
#endif
#ifndef LABFWD_SAMPLE_INSTALLED
#define LABFWD_SAMPLE_INSTALLED "/usr/local/share/labyrinth/sample.pcap"
#endif

/* Passes over the sample and the replay rate, so that it takes a few seconds
 * with a live line each second (~45 MB of output, removed once checked). */
#define DEMO_LOOPS 20
#define DEMO_RATE 20000

static char demo_out[256];
static bool demo_keep;

static void demo_remove(void)
{
	if (demo_out[0] != '\0' && !demo_keep)
		unlink(demo_out);
}

int fwd_demo_setup(struct fwd_opts *o)
{
	static char dev[700];
	const char *sample = access(LABFWD_SAMPLE, R_OK) == 0 ? LABFWD_SAMPLE :
			     LABFWD_SAMPLE_INSTALLED;
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	if (access(sample, R_OK) != 0) {
		fprintf(stderr, "labfwd: the bundled sample is missing (looked for %s and %s); "
			"rebuild, or give ports with -p\n", LABFWD_SAMPLE, LABFWD_SAMPLE_INSTALLED);
		return -1;
	}
	if ((size_t)snprintf(demo_out, sizeof(demo_out), "%s/labfwd-demo-%d.pcap", tmp,
			     (int)getpid()) >= sizeof(demo_out)) {
		fprintf(stderr, "labfwd: TMPDIR '%s' is too long for the demo's output path (at "
			"most %zu characters); set a shorter one\n", tmp, sizeof(demo_out) - 32);
		demo_out[0] = '\0';
		return -1;
	}
	if (atexit(demo_remove) != 0) {
		fprintf(stderr, "labfwd: cannot arrange for the demo's output to be removed\n");
		return -1;
	}
	snprintf(dev, sizeof(dev), "pcap:rx=%s,tx=%s,loop=%d,pps=%d", sample, demo_out,
		 DEMO_LOOPS, DEMO_RATE);
	o->ports[o->nports++] = dev;
	o->verify = true;
	o->embedded = true;
	printf("labfwd demo: replaying the bundled sample %s %d times at %d packets/s through "
	       "the labyrinth pool into %s, then checking the output against the input.\n"
	       "(labfwd --help for ports of your own; this demo needs no interface.)\n",
	       sample, DEMO_LOOPS, DEMO_RATE, demo_out);
	fflush(stdout);
	return 0;
}

void fwd_demo_keep(void)
{
	demo_keep = true;
	fprintf(stderr, "labfwd demo: the output %s is kept, to look at\n", demo_out);
}

int fwd_demo_interrupted(struct fwd_ctx *c, int sig)
{
	uint64_t frames = 0;

	for (unsigned int i = 0; i < c->nports; i++) /* the ports are closed: their last stats */
		if (c->port[i].counted)
			frames += c->port[i].final->rx_total.packets;
	printf("labfwd demo: interrupted (%s) after %llu of %llu frames: the output was not "
	       "checked; it is removed. Run labfwd again and let it finish (a few seconds).\n",
	       strsignal(sig), (unsigned long long)frames,
	       (unsigned long long)c->total_expected);
	fflush(stdout);
	/* As a shell reports a command a signal stopped: not a success. */
	return 128 + sig;
}
