/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CTL_INTERNAL_H
#define CTL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/un.h>

#include <labyrinth/lab_ctl.h>

#include <labyrinth/lab_json.h>
#include <labyrinth/lab_log.h>

LAB_LOG_DECLARE(ctl);

/* Most pools and ports one reply or metrics page covers. */
#define CTL_MAX_OBJS 64

/* One client: its request bytes, and the one reply it has not read yet. */
struct ctl_client {
	int fd;               /* -1: a free slot */
	bool eof;             /* it half-closed: answer what is left, then close */
	size_t len;           /* request bytes in buf */
	char *out;            /* the reply going out (NULL: none) */
	size_t out_len, out_off;
	uint64_t moved_ms;    /* when the reply last moved (CLOCK_MONOTONIC) */
	char buf[LAB_CTL_REQ_MAX];
};

struct lab_ctl {
	int lfd;
	int wake[2];          /* a byte here stops the thread (non-blocking) */
	int spare;            /* held to turn a client away when descriptors run out */
	pthread_t tid;
	ino_t ino;            /* the socket's inode: close removes only our own */
	unsigned int stall_ms;
	unsigned int backoff_ms;  /* accepting failed: the current pause (0: none) */
	uint64_t accept_at;   /* no accept before then (ms, CLOCK_MONOTONIC) */
	bool told_full;       /* "out of descriptors" logged for this shortage */
	bool poll_warned;     /* a poll failure logged (until one succeeds) */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_client cl[LAB_CTL_MAX_CLIENTS];
};

/* The server thread (ctl_serve.c). */
void *ctl_serve(void *arg);

/* Close every client (the thread has stopped). */
void ctl_clients_close(struct lab_ctl *c);

#endif
