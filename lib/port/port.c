/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: the port driver registry (lab_driver.h), opening a port from a device string, queue set
 * up (each queue owns an owner cache of the pool: its own, or the caller's
 * when the caller makes queues one ownership domain), start/stop/close and
 * the stats. The bursts themselves are inline in lab_port.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <labyrinth/lab_log.h>
#include <labyrinth/lab_port_driver.h>

#include "port_internal.h"

LAB_LOG_REGISTER(port, NOTICE);

static _Atomic uint16_t next_port_id;

/* The first callback a port driver must have and @p ops lacks, or NULL. */
static const char *missing_op(const void *ops)
{
	const struct lab_port_ops *o = ops;

	if (o->open == NULL)
		return "open";
	if (o->close == NULL)
		return "close";
	if (o->start == NULL)
		return "start";
	if (o->stop == NULL)
		return "stop";
	if (o->link == NULL)
		return "link";
	if (o->rx_burst == NULL)
		return "rx_burst";
	if (o->tx_burst == NULL)
		return "tx_burst";
	return NULL;
}

LAB_DRIVER_REGISTRY_DEFINE(port_drivers, "port", lab_logtype_port, missing_op, 16);

int lab_port_driver_register(const struct lab_port_ops *ops)
{
	return lab_driver_register(&port_drivers, ops != NULL ? ops->name : NULL,
				   ops != NULL ? ops->keys : NULL, ops);
}

const struct lab_driver_registry *lab_port_drivers(void)
{
	return &port_drivers;
}

int lab_port_nop(struct lab_port *p)
{
	(void)p;
	return 0;
}

void lab_port_conf_init(struct lab_port_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
}

/* The owner cache of queue @p q: the caller's (an ownership domain it gave
 * in the configuration; marked in @p given so close leaves it alone), or one
 * made for the queue. */
static int queue_owner(struct port_priv *pp, struct lab_port_queue *q, const char *name,
		       struct lab_cache *const *mine, uint64_t *given)
{
	struct lab_cache *c = mine != NULL ? mine[q->id] : NULL;

	if (c == NULL) {
		q->owner = lab_cache_create(q->pool, name, 256);
		return 0;
	}
	if (c->pool != q->pool) {
		LAB_LOG(ERR, port, "%s: the owner cache given for %s belongs to pool '%s', not "
			"to the port's pool '%s': give a cache of the port's pool", pp->devstr,
			name, lab_pool_name(c->pool), lab_pool_name(q->pool));
		return -EINVAL;
	}
	q->owner = c;
	*given |= 1ull << q->id;
	return 0;
}

static int queues_init(struct lab_port *p, struct lab_port_queue *qs, uint16_t n, uint32_t ring,
		       const char *dir, bool array, struct lab_cache *const *mine,
		       uint64_t *given)
{
	struct port_priv *pp = port_priv_of(p);

	for (uint16_t i = 0; i < n; i++) {
		struct lab_port_queue *q = &qs[i];
		char name[48];
		int rc;

		snprintf(name, sizeof(name), "port%u.%sq%u", p->id, dir, i);
		q->port = p;
		q->id = i;
		q->port_id = p->id;
		q->pool = pp->conf.pool;
		q->ring_size = ring;
		rc = queue_owner(pp, q, name, mine, given);
		if (rc < 0)
			return rc;
		if (q->owner == NULL) {
			LAB_LOG(ERR, port, "%s: no owner cache for %s: %s", pp->devstr, name,
				lab_strerror(lab_errno));
			return -lab_errno;
		}
		if (ring != 0 && array) {
			q->ring = calloc(ring, sizeof(*q->ring));
			if (q->ring == NULL)
				return -ENOMEM;
		}
	}
	return 0;
}

static void queues_fini(struct lab_port_queue *qs, uint16_t n, uint64_t given)
{
	for (uint16_t i = 0; i < n && qs != NULL; i++) {
		if (qs[i].owner != NULL && !(given & (1ull << i)))
			lab_cache_destroy(qs[i].owner);
		free(qs[i].ring);
	}
	free(qs);
}

static int conf_check(const char *devstr, const struct lab_port_conf *c)
{
	if (c == NULL || c->size < sizeof(*c) || c->pool == NULL) {
		LAB_LOG(ERR, port, "%s: the port configuration needs a pool (and its size field "
			"set by lab_port_conf_init)", devstr);
		return -EINVAL;
	}
	if (c->nb_rxq > LAB_PORT_MAX_QUEUES || c->nb_txq > LAB_PORT_MAX_QUEUES) {
		LAB_LOG(ERR, port, "%s: %u RX / %u TX queues asked; at most %u each", devstr,
			c->nb_rxq, c->nb_txq, LAB_PORT_MAX_QUEUES);
		return -EINVAL;
	}
	if (c->rx_ring_size > 16384 || c->tx_ring_size > 16384) {
		LAB_LOG(ERR, port, "%s: ring sizes %u/%u; at most 16384", devstr,
			c->rx_ring_size, c->tx_ring_size);
		return -EINVAL;
	}
	return 0;
}

static struct port_priv *port_alloc(const char *devstr, const struct lab_port_conf *conf,
				    const struct lab_port_ops *ops)
{
	struct port_priv *pp = calloc(1, sizeof(*pp));

	if (pp == NULL)
		return NULL;
	pp->ops = ops;
	pp->conf = *conf;
	/* The owner arrays are read once, by queues_init; they may not outlive
	 * the call. */
	pp->conf.rxq_owner = NULL;
	pp->conf.txq_owner = NULL;
	pp->devstr = strdup(devstr);
	pp->pub.rx_burst = ops->rx_burst;
	pp->pub.tx_burst = ops->tx_burst;
	pp->pub.nb_rxq = conf->nb_rxq ? conf->nb_rxq : 1;
	pp->pub.nb_txq = conf->nb_txq ? conf->nb_txq : 1;
	pp->pub.id = atomic_fetch_add(&next_port_id, 1);
	pp->pub.rxq = aligned_alloc(LAB_CACHE_LINE, sizeof(struct lab_port_queue) * pp->pub.nb_rxq);
	pp->pub.txq = aligned_alloc(LAB_CACHE_LINE, sizeof(struct lab_port_queue) * pp->pub.nb_txq);
	if (pp->devstr == NULL || pp->pub.rxq == NULL || pp->pub.txq == NULL) {
		free(pp->pub.rxq);
		free(pp->pub.txq);
		free(pp->devstr);
		free(pp);
		return NULL;
	}
	memset(pp->pub.rxq, 0, sizeof(struct lab_port_queue) * pp->pub.nb_rxq);
	memset(pp->pub.txq, 0, sizeof(struct lab_port_queue) * pp->pub.nb_txq);
	return pp;
}

/* The open ports, for lab_port_foreach (the control socket's thread). */
static struct {
	pthread_mutex_t lock;
	struct port_priv *head;
} ports = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void port_list_add(struct port_priv *pp)
{
	pthread_mutex_lock(&ports.lock);
	pp->next = ports.head;
	ports.head = pp;
	pthread_mutex_unlock(&ports.lock);
}

static void port_list_del(struct port_priv *pp)
{
	pthread_mutex_lock(&ports.lock);
	for (struct port_priv **pq = &ports.head; *pq != NULL; pq = &(*pq)->next) {
		if (*pq == pp) {
			*pq = pp->next;
			break;
		}
	}
	pthread_mutex_unlock(&ports.lock);
}

int lab_port_foreach(int (*fn)(struct lab_port *p, void *arg), void *arg)
{
	int rc = 0;

	pthread_mutex_lock(&ports.lock);
	for (struct port_priv *pp = ports.head; pp != NULL && rc == 0; pp = pp->next)
		rc = fn(&pp->pub, arg);
	pthread_mutex_unlock(&ports.lock);
	return rc;
}

static void port_free(struct port_priv *pp)
{
	queues_fini(pp->pub.rxq, pp->pub.nb_rxq, pp->rx_given);
	queues_fini(pp->pub.txq, pp->pub.nb_txq, pp->tx_given);
	lab_devargs_free(&pp->args);
	free(pp->devstr);
	free(pp);
}

struct lab_port *lab_port_open(const char *devstr, const struct lab_port_conf *conf)
{
	const struct lab_port_ops *ops;
	const struct lab_driver *drv;
	struct port_priv *pp;
	struct lab_devargs args;
	uint32_t rx_ring, tx_ring;
	int rc;

	rc = lab_devargs_parse(devstr, &port_drivers, &args, &drv);
	if (rc < 0)
		goto err;
	ops = drv->ops;
	rc = conf_check(devstr, conf);
	if (rc < 0)
		goto err_args;
	pp = port_alloc(devstr, conf, ops);
	if (pp == NULL) {
		rc = -ENOMEM;
		goto err_args;
	}
	pp->args = args;
	pp->args.devstr = pp->devstr;
	rx_ring = conf->rx_ring_size ? conf->rx_ring_size : ops->rx_ring_default;
	if (ops->rx_ring_default == 0)
		rx_ring = 0;
	tx_ring = conf->tx_ring_size ? conf->tx_ring_size : ops->tx_ring_default;
	rc = queues_init(&pp->pub, pp->pub.rxq, pp->pub.nb_rxq, rx_ring, "rx",
			 !(ops->flags & LAB_PORT_F_RX_OWN_DESC), conf->rxq_owner, &pp->rx_given);
	if (rc == 0)
		rc = queues_init(&pp->pub, pp->pub.txq, pp->pub.nb_txq, tx_ring, "tx", false,
				 conf->txq_owner, &pp->tx_given);
	if (rc == 0) {
		rc = ops->open(&pp->pub, &pp->args);
		if (rc < 0)
			ops->close(&pp->pub);
	}
	if (rc < 0) {
		port_free(pp);
		goto err;
	}
	port_list_add(pp);
	return &pp->pub;
err_args:
	lab_devargs_free(&args);
err:
	lab_errno = -rc;
	return NULL;
}

unsigned int _lab_port_handoff_chains(struct lab_cache *from, struct lab_cache *to,
				      struct lab_buf *const *bufs, unsigned int n,
				      const void *site)
{
	unsigned int ok = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct lab_buf *b = bufs[i];

		ok += lab_buf_transfer_at(from, to, &b, 1, site);
		/* A segment refused is a finding (queued for the warden); the
		 * frame stays the caller's either way. */
		while ((b = b->next) != NULL)
			(void)lab_buf_transfer_at(from, to, &b, 1, site);
	}
	return ok;
}

static void rxq_drain(struct lab_port_queue *q)
{
	if (q->ring_avail != 0)
		lab_free_frames(q->owner, q->ring, q->ring_avail);
	q->ring_avail = 0;
	q->ring_short = 0;
}

int lab_port_start(struct lab_port *p)
{
	struct port_priv *pp = port_priv_of(p);
	int rc;

	if (pp->started)
		return 0;
	for (uint16_t i = 0; i < p->nb_rxq; i++)
		if (p->rxq[i].ring != NULL)
			lab_rxq_refill(&p->rxq[i]);
	rc = pp->ops->start(p);
	if (rc < 0) {
		for (uint16_t i = 0; i < p->nb_rxq; i++)
			rxq_drain(&p->rxq[i]);
		return rc;
	}
	pp->started = true;
	return 0;
}

int lab_port_stop(struct lab_port *p)
{
	struct port_priv *pp = port_priv_of(p);
	int rc;

	if (!pp->started)
		return 0;
	rc = pp->ops->stop(p);
	for (uint16_t i = 0; i < p->nb_rxq; i++)
		rxq_drain(&p->rxq[i]);
	pp->started = false;
	return rc;
}

int lab_port_close(struct lab_port *p)
{
	struct port_priv *pp;
	int rc;

	if (p == NULL)
		return -EINVAL;
	pp = port_priv_of(p);
	port_list_del(pp);
	rc = lab_port_stop(p);
	pp->ops->close(p);
	port_free(pp);
	return rc;
}

int lab_port_link(struct lab_port *p, struct lab_port_link *link)
{
	memset(link, 0, sizeof(*link));
	return port_priv_of(p)->ops->link(p, link);
}

static void qstats_add(struct lab_port_qstats *t, const struct lab_port_qstats *s)
{
	t->packets += s->packets;
	t->bytes += s->bytes;
	t->rx_nobuf += s->rx_nobuf;
	t->oversize += s->oversize;
	t->truncated += s->truncated;
	t->ring_full += s->ring_full;
	t->chained += s->chained;
	t->errors += s->errors;
}

void lab_port_stats(const struct lab_port *p, struct lab_port_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->nb_rxq = p->nb_rxq;
	st->nb_txq = p->nb_txq;
	/* The queues' threads may be counting: a snapshot. */
	for (uint16_t i = 0; i < p->nb_rxq; i++)
		lab_counters_load((uint64_t *)&st->rx[i], (const uint64_t *)&p->rxq[i].st,
				  sizeof(st->rx[i]) / sizeof(uint64_t));
	for (uint16_t i = 0; i < p->nb_txq; i++)
		lab_counters_load((uint64_t *)&st->tx[i], (const uint64_t *)&p->txq[i].st,
				  sizeof(st->tx[i]) / sizeof(uint64_t));
	if (port_priv_of(p)->ops->xstats != NULL)
		port_priv_of(p)->ops->xstats(p, st, false);
	for (uint16_t i = 0; i < p->nb_rxq; i++)
		qstats_add(&st->rx_total, &st->rx[i]);
	for (uint16_t i = 0; i < p->nb_txq; i++)
		qstats_add(&st->tx_total, &st->tx[i]);
}

void lab_port_stats_reset(struct lab_port *p)
{
	if (port_priv_of(p)->ops->xstats != NULL)
		port_priv_of(p)->ops->xstats(p, NULL, true);
	for (uint16_t i = 0; i < p->nb_rxq; i++)
		memset(&p->rxq[i].st, 0, sizeof(p->rxq[i].st));
	for (uint16_t i = 0; i < p->nb_txq; i++)
		memset(&p->txq[i].st, 0, sizeof(p->txq[i].st));
}

const char *lab_port_name(const struct lab_port *p)
{
	return port_priv_of(p)->devstr;
}

const char *lab_port_driver(const struct lab_port *p)
{
	return port_priv_of(p)->ops->name;
}

void *lab_port_priv(const struct lab_port *p)
{
	return port_priv_of(p)->drv;
}

void lab_port_set_priv(struct lab_port *p, void *priv)
{
	port_priv_of(p)->drv = priv;
}
