/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LABFWD_H
#define LABFWD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <labyrinth/lab_config.h>
#include <labyrinth/lab_pool.h>
#include <labyrinth/lab_port.h>

#define FWD_MAX_PORTS 16
#define FWD_MAX_WORKERS 16

enum fwd_mode { FWD_IO, FWD_MACSWAP, FWD_L2FWD };

struct fwd_opts {
	const char *ports[FWD_MAX_PORTS];
	unsigned int nports;
	int map[FWD_MAX_PORTS]; /* destination of each port; -1 until set */
	bool have_map;
	int cores[FWD_MAX_WORKERS];
	unsigned int nworkers;
	unsigned int burst;
	enum fwd_mode mode;
	double duration;         /* seconds; 0: no limit */
	uint64_t packets;        /* stop after this many received; 0: no limit */
	double interval;         /* live view period; 0: none */
	bool json;
	bool verify;             /* compare pcap outputs with their inputs at exit */
	bool tx_first;           /* each worker sends one burst on every port first */
	bool queue_owners;       /* --owners queue: a cache per queue, not per worker */
	enum fwd_retry { FWD_RETRY_REPLAY, FWD_RETRY_ALL, FWD_RETRY_NONE } retry; /* --tx-retry */
	uint32_t rx_ring, tx_ring;
	struct lab_config cfg;   /* pool, arena, quality, log */
	const char *ctl;         /* control socket path; NULL: the default; "off": none */
	const char *metrics;     /* --metrics ADDR:PORT: Prometheus over HTTP; NULL: none */
	bool metrics_remote;     /* --metrics-remote: a non-loopback address is allowed */
	const char *csv;         /* --stats-csv FILE */
	double csv_interval;     /* seconds per CSV row (0: the stats interval, or 1) */
	double storm_at, storm_secs; /* --storm: hold every buffer above min meanwhile */
	bool pool_size_given;    /* pool.size set by an option or the config file */
	bool embedded;           /* no arguments: the bundled sample (demo.c) */
};

/* What labfwd knows of one port. */
struct fwd_port {
	struct lab_port *p;
	const char *dev;
	int dst;
	uint8_t mac[6];            /* l2fwd source MAC: 02:00:00:00:00:<port> */
	/* pcap replay, from the device string */
	char rx_file[256], tx_file[256];
	uint64_t loop;             /* passes; 0 = forever */
	uint64_t frames;           /* frames in rx_file (0: unknown) */
	bool finite;               /* a source that ends (pcap rx file, loop > 0) */
	bool counted;              /* its frames are in total_expected (progress) */
	bool source;               /* receives traffic from outside labfwd */
	bool keep;                 /* what TX refuses of its traffic is offered again */
	struct lab_port_stats *final; /* taken just before close */
};

struct fwd_worker {
	pthread_t tid;
	unsigned int id;
	int core;
	struct fwd_ctx *ctx;
	bool started;
	uint64_t refused; /* buffers a transfer refused (findings) */
	_Atomic unsigned int held; /* buffers kept for a retry now */
	_Atomic uint64_t dropped[FWD_MAX_PORTS]; /* of each source port: freed unsent */
} __attribute__((aligned(64)));

/* Figures at one moment (report.c): every port's packets, the pool. */
struct fwd_snap {
	double t;
	uint64_t rx, tx, drops, nobuf;
	uint64_t src_rx;         /* received by the counted replays: progress */
	struct lab_pool_stats pool;
};

struct fwd_ctx {
	struct fwd_opts *o;
	struct lab_pool *pool;
	struct fwd_port port[FWD_MAX_PORTS];
	unsigned int nports;
	struct fwd_worker w[FWD_MAX_WORKERS];
	/* Worker w's ownership domain: the owner cache of RX and TX queue w of
	 * every port (NULL with --owners queue: the ports make their own). */
	struct lab_cache *dom[FWD_MAX_WORKERS];
	_Atomic int stop;
	uint64_t total_expected; /* frames the finite sources will give (0: unknown) */
	struct lab_ctl *ctl;
	struct lab_metrics_http *http;
	FILE *csv;
	double csv_next;
	struct fwd_snap csv_prev; /* the last CSV row's figures */
	struct fwd_storm {
		struct lab_cache *cache;
		struct lab_buf **held;
		uint32_t n, cap, peak;
		bool done;
	} storm;
	double elapsed;          /* seconds of forwarding */
	int stop_signal;         /* the signal that stopped the run, or 0 */
};

/* opts.c */
void fwd_usage(FILE *f);
/* @return 0 to run, 1 for --help, -1 for bad usage (said on stderr). */
int fwd_parse_args(struct fwd_opts *o, int argc, char **argv);

/* demo.c: the embedded demo */
int fwd_demo_setup(struct fwd_opts *o);
void fwd_demo_keep(void); /* its output failed the check: keep it */
/* Say the demo was interrupted; @return the exit status. Ports closed. */
int fwd_demo_interrupted(struct fwd_ctx *c, int sig);

/* fwd.c */
int fwd_workers_start(struct fwd_ctx *c);
void fwd_workers_join(struct fwd_ctx *c);

/* report.c */
void fwd_snap_take(struct fwd_ctx *c, double t, struct fwd_snap *s);
uint64_t fwd_rx_total(struct fwd_ctx *c); /* packets received, every port: cheap */
unsigned int fwd_held(struct fwd_ctx *c);  /* buffers the workers keep for a retry */
void fwd_live_line(struct fwd_ctx *c, const struct fwd_snap *prev, const struct fwd_snap *now);
int fwd_summary(struct fwd_ctx *c, FILE *f);

/* observe.c: the control socket, --stats-csv and --storm */
int fwd_ctl_open(struct fwd_ctx *c);
int fwd_csv_open(struct fwd_ctx *c);
void fwd_observe_tick(struct fwd_ctx *c, double t);
void fwd_observe_close(struct fwd_ctx *c);
void fwd_storm_end(struct fwd_ctx *c);

/* verify.c */
int fwd_count_frames(const char *path, uint64_t *n);
int fwd_verify_output(const char *in, const char *out, uint64_t loops, FILE *f, bool json);
int fwd_parse_pcap_dev(struct fwd_port *fp);

#endif
