/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * labfwd: the sample forwarding app (DPDK's l2fwd and testpmd io mode, on
 * labyrinth ports). Ports from device strings, a forwarding map, one RX and
 * one TX queue per worker per port, busy polling; a live line per interval
 * and a summary at exit with the pool's accounting check.
 *
 * With no arguments at all it runs the embedded demo (demo.c); any other run
 * needs a port.
 *
 * Exit: 0 when all went well; 1 for bad usage, config or a port that cannot
 * open; 2 when buffers are still in flight at exit or an output capture does
 * not match its input; 128 + the signal for a demo a signal interrupted.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <labyrinth/lab_arena.h>
#include <labyrinth/lab_log.h>

#include "labfwd.h"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* The signals that stop a run cleanly (the summary, every port closed, the
 * control socket and the demo's output removed): SIGINT, SIGTERM, SIGHUP (the
 * terminal went away) and SIGPIPE (the reader of the output went away). One
 * ignored at exec, as nohup does with SIGHUP, stays ignored. */
static void catch_stop_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    (old.sa_handler != SIG_IGN || sigs[i] == SIGINT || sigs[i] == SIGTERM))
			sigaction(sigs[i], &sa, NULL);
}

static double now_s(void)
{
	return (double)lab_now_ns() / 1e9;
}

static int first_cpu(void)
{
	cpu_set_t s;

	if (sched_getaffinity(0, sizeof(s), &s) == 0)
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &s))
				return i;
	return -1;
}

static struct lab_pool *make_pool(struct fwd_opts *o, bool fixed)
{
	struct lab_pool_opts po;

	lab_pool_opts_init(&po);
	lab_pool_opts_from_config(&po, &o->cfg);
	if (fixed && po.max != po.initial) {
		fprintf(stderr, "labfwd: af_xdp registers the pool's memory as its UMEM: pool fixed "
			"at %u buffers (pool.size; pool.max %u ignored)\n", po.initial, po.max);
		po.max = po.initial;
	}
	return lab_pool_create(&po);
}

/* A pool is whole chambers: a pool.size that is not a multiple of one gets
 * more (or, short of memory, fewer) buffers. Say so when the size was asked. */
static void pool_size_notice(struct fwd_ctx *c)
{
	size_t bytes = lab_arena_page_size(lab_pool_arena(c->pool));
	struct lab_pool_stats st;

	if (!c->o->pool_size_given)
		return;
	lab_pool_stats(c->pool, &st);
	if (st.total == c->o->cfg.pool_size)
		return;
	fprintf(stderr, "labfwd: notice: pool size %llu asked, %llu given: a pool is made of "
		"whole chambers of %zu %s (%u buffers each)\n",
		(unsigned long long)c->o->cfg.pool_size, (unsigned long long)st.total,
		bytes >= (1u << 30) ? bytes >> 30 : bytes >= (1u << 20) ? bytes >> 20 : bytes >> 10,
		bytes >= (1u << 30) ? "GiB" : bytes >= (1u << 20) ? "MiB" : "KiB", st.per_chamber);
}

/* One owner cache per worker, given to RX and TX queue w of every port: the
 * worker's ownership domain (docs/architecture.md). */
static int make_domains(struct fwd_ctx *c)
{
	if (c->o->queue_owners)
		return 0;
	for (unsigned int w = 0; w < c->o->nworkers; w++) {
		char name[32];

		snprintf(name, sizeof(name), "worker%u", w);
		c->dom[w] = lab_cache_create(c->pool, name, 0);
		if (c->dom[w] == NULL) {
			fprintf(stderr, "labfwd: no owner cache for worker %u: %s\n", w,
				strerror(lab_errno));
			return -1;
		}
	}
	return 0;
}

static void free_domains(struct fwd_ctx *c)
{
	for (unsigned int w = 0; w < FWD_MAX_WORKERS; w++)
		if (c->dom[w] != NULL) {
			lab_cache_destroy(c->dom[w]);
			c->dom[w] = NULL;
		}
}

static int open_ports(struct fwd_ctx *c)
{
	struct fwd_opts *o = c->o;

	if (make_domains(c) < 0)
		return -1;

	for (unsigned int i = 0; i < c->nports; i++) {
		struct fwd_port *fp = &c->port[i];
		struct lab_port_conf pc;

		fp->dev = o->ports[i];
		fp->dst = o->have_map ? o->map[i] : (int)((i ^ 1) < c->nports ? (i ^ 1) : i);
		if (fp->dst < 0 || fp->dst >= (int)c->nports) {
			fprintf(stderr, "labfwd: map: port %u (%s) has %s destination\n", i, fp->dev,
				fp->dst < 0 ? "no" : "an out-of-range");
			return -1;
		}
		memcpy(fp->mac, "\x02\x00\x00\x00\x01", 5);
		fp->mac[5] = (uint8_t)i;
		fp->final = calloc(1, sizeof(*fp->final));
		lab_port_conf_init(&pc);
		pc.pool = c->pool;
		pc.nb_rxq = pc.nb_txq = (uint16_t)o->nworkers;
		pc.rx_ring_size = o->rx_ring;
		pc.tx_ring_size = o->tx_ring;
		if (!o->queue_owners)
			pc.rxq_owner = pc.txq_owner = c->dom;
		fp->p = lab_port_open(fp->dev, &pc);
		if (fp->p == NULL) {
			fprintf(stderr, "labfwd: port %u '%s' did not open: %s%s\n", i, fp->dev,
				strerror(lab_errno), o->nworkers > 1 ? " (each port gets one RX and "
				"one TX queue per worker)" : "");
			return -1;
		}
		if (fwd_parse_pcap_dev(fp)) {
			fp->source = fp->rx_file[0] != '\0' || strstr(fp->dev, "iface=") != NULL;
			fp->finite = fp->rx_file[0] != '\0' && fp->loop > 0 &&
				     strstr(fp->dev, "iface=") == NULL;
			if (fp->finite && fwd_count_frames(fp->rx_file, &fp->frames) == 0 &&
			    fp->frames) {
				c->total_expected += fp->frames * fp->loop;
				fp->counted = true;
			}
		} else {
			/* ring ports carry labfwd's own traffic; the rest receive from outside. */
			fp->source = strncmp(fp->dev, "ring:", 5) != 0;
		}
		/* A replay at full speed has no wall clock to keep up with: what a
		 * slower port refuses waits rather than being lost (--tx-retry). */
		fp->keep = o->retry == FWD_RETRY_ALL ||
			   (o->retry == FWD_RETRY_REPLAY && fp->rx_file[0] != '\0' &&
			    strstr(fp->dev, "iface=") == NULL);
	}
	for (unsigned int i = 0; i < c->nports; i++)
		if (lab_port_start(c->port[i].p) < 0) {
			fprintf(stderr, "labfwd: port %u '%s' did not start: %s\n", i, c->port[i].dev,
				strerror(lab_errno));
			return -1;
		}
	return 0;
}

/* Every source has ended: a finite replay done, or any replay its driver
 * ended early (a bad file, a looped pass that gave no frame, loop=0 too). */
static bool sources_done(struct fwd_ctx *c)
{
	bool any = false;

	for (unsigned int i = 0; i < c->nports; i++) {
		struct lab_port_link l;

		if (!c->port[i].source)
			continue;
		if (lab_port_link(c->port[i].p, &l) < 0 || !l.rx_done)
			return false;
		any = true;
	}
	return any;
}

static void run(struct fwd_ctx *c)
{
	struct fwd_opts *o = c->o;
	double t0 = now_s(), next = o->interval, idle_since = 0;
	struct fwd_snap prev, cur;
	uint64_t last_rx = 0;

	fwd_snap_take(c, 0, &prev);
	while (!atomic_load(&c->stop)) {
		/* Every 10 ms the stop conditions (received packets only); the
		 * full snapshot, pool included, once per live line. */
		uint64_t rx;
		double t;

		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
		t = now_s() - t0;
		rx = fwd_rx_total(c);
		if (got_signal) {
			c->stop_signal = got_signal;
			if (!o->json)
				printf("labfwd: %s: stopping\n", strsignal(got_signal));
			break;
		}
		if (o->duration > 0 && t >= o->duration)
			break;
		if (o->packets > 0 && rx >= o->packets)
			break;
		/* A finished replay: stop once nothing has moved for 100 ms (rings
		 * between ports drained) and no worker holds a burst to retry. */
		if (rx != last_rx || !sources_done(c) || fwd_held(c) != 0) {
			last_rx = rx;
			idle_since = t;
		} else if (t - idle_since >= 0.1) {
			break;
		}
		fwd_observe_tick(c, t);
		if (o->interval > 0 && t >= next) {
			fwd_snap_take(c, t, &cur);
			fwd_live_line(c, &prev, &cur);
			prev = cur;
			next += o->interval;
		}
	}
	fwd_workers_join(c);
	fwd_storm_end(c);
	c->elapsed = now_s() - t0;
	if (o->interval > 0) {
		fwd_snap_take(c, c->elapsed, &cur);
		if (cur.t > prev.t + 0.05)
			fwd_live_line(c, &prev, &cur);
	}
}

static int verify_outputs(struct fwd_ctx *c)
{
	int rc = 0, checked = 0;

	for (unsigned int i = 0; i < c->nports; i++) {
		struct fwd_port *fp = &c->port[i];

		if (fp->rx_file[0] == '\0' || fp->tx_file[0] == '\0' || fp->dst != (int)i)
			continue;
		if (fp->loop == 0) {
			fprintf(stderr, "labfwd: --verify: port %u replays forever (loop=0): "
				"nothing to compare\n", i);
			rc = -1;
			continue;
		}
		checked++;
		if (fwd_verify_output(fp->rx_file, fp->tx_file, fp->loop, stdout, c->o->json) < 0)
			rc = -1;
	}
	if (checked == 0 && rc == 0) {
		fprintf(stderr, "labfwd: --verify: no pcap port with rx and tx files forwards to "
			"itself\n");
		rc = -1;
	}
	return rc;
}

/* What was asked had no port: only labfwd without arguments is the demo. */
static int no_port(struct fwd_opts *o, int argc)
{
	if (argc == 1)
		return fwd_demo_setup(o);
	fprintf(stderr, "labfwd: no port given: add one with -p DEV (e.g. -p "
		"pcap:rx=in.pcap,tx=out.pcap or -p null; docs/drivers.md), or a 'port = DEV' "
		"line under [labfwd] in the --config file; labfwd with no arguments at all runs "
		"the demo\n");
	return -1;
}

/* After the summary: the outputs checked, or the demo's interruption said
 * (lost buffers, status 2, still win). */
static int finish(struct fwd_ctx *c, int status)
{
	if (c->o->embedded && c->stop_signal != 0) {
		int st = fwd_demo_interrupted(c, c->stop_signal);

		return status != 0 ? status : st;
	}
	if (c->o->verify && verify_outputs(c) < 0) {
		if (c->o->embedded)
			fwd_demo_keep();
		return 2;
	}
	return status;
}

int main(int argc, char **argv)
{
	static struct fwd_opts o;
	static struct fwd_ctx c;
	bool xdp = false;
	int rc, status = 0;

	catch_stop_signals();

	lab_config_defaults(&o.cfg);
	o.burst = 32;
	o.interval = 1;
	for (int i = 0; i < FWD_MAX_PORTS; i++)
		o.map[i] = -1;
	rc = fwd_parse_args(&o, argc, argv);
	if (rc != 0) {
		if (rc > 0)
			fwd_usage(stdout);
		return rc > 0 ? 0 : 1;
	}
	if (o.nports == 0 && no_port(&o, argc) < 0)
		return 1;
	if (o.nworkers == 0) {
		o.nworkers = 1;
		o.cores[0] = first_cpu();
	}
	if (lab_config_validate(&o.cfg) < 0) {
		fprintf(stderr, "labfwd: %s\n", lab_config_error());
		return 1;
	}
	lab_config_apply_logs(&o.cfg);
	for (unsigned int i = 0; i < o.nports; i++)
		xdp |= strncmp(o.ports[i], "af_xdp:", 7) == 0;
	c.o = &o;
	c.nports = o.nports;
	c.pool = make_pool(&o, xdp);
	if (c.pool == NULL) {
		fprintf(stderr, "labfwd: cannot create the pool: %s\n", strerror(lab_errno));
		return 1;
	}
	pool_size_notice(&c);
	if (o.csv_interval == 0)
		o.csv_interval = o.interval > 0 ? o.interval : 1;
	rc = open_ports(&c);
	if (rc == 0)
		rc = fwd_ctl_open(&c);
	if (rc == 0)
		rc = fwd_csv_open(&c);
	if (rc == 0)
		rc = fwd_workers_start(&c);
	if (rc == 0)
		run(&c);
	else
		status = 1;
	fwd_workers_join(&c);
	fwd_observe_close(&c);
	for (unsigned int i = 0; i < c.nports; i++) {
		if (c.port[i].p == NULL)
			continue;
		lab_port_stats(c.port[i].p, c.port[i].final);
		lab_port_stop(c.port[i].p);
		lab_port_close(c.port[i].p);
	}
	free_domains(&c); /* after the ports: their queues used them to the end */
	if (status == 0) {
		if (fwd_summary(&c, stdout) < 0)
			status = 2;
		status = finish(&c, status);
	}
	if (status != 2 && lab_pool_destroy(c.pool) < 0)
		status = 2;
	for (unsigned int i = 0; i < c.nports; i++)
		free(c.port[i].final);
	if (o.embedded && status == 0 && !o.json)
		printf("labfwd demo: OK\n");
	return status;
}
