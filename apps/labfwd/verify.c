/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replay bookkeeping: what a pcap device string replays (for progress), and
 * the check that an output capture is the input replayed N times, frame for
 * frame and byte for byte.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "labfwd.h"

/* Fill rx_file, tx_file and loop from a "pcap:..." device string. */
int fwd_parse_pcap_dev(struct fwd_port *fp)
{
	char buf[1024], *save = NULL, *kv;
	uint64_t loops;

	fp->loop = 1;
	if (strncmp(fp->dev, "pcap:", 5) != 0)
		return 0;
	snprintf(buf, sizeof(buf), "%s", fp->dev + 5);
	for (kv = strtok_r(buf, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');

		if (v == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(kv, "rx") == 0)
			snprintf(fp->rx_file, sizeof(fp->rx_file), "%s", v);
		else if (strcmp(kv, "tx") == 0)
			snprintf(fp->tx_file, sizeof(fp->tx_file), "%s", v);
		/* Read as the driver reads it (lab_devargs_u64), so loop=2K is 2048
		 * passes here too; a bad value fails the port's open. */
		else if (strcmp(kv, "loop") == 0 && lab_parse_size(v, &loops) == 0)
			fp->loop = loops;
	}
	return 1;
}

/* Frames in a capture; files over 1 GiB are not counted (n = 0). */
int fwd_count_frames(const char *path, uint64_t *n)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	struct stat st;
	pcap_t *p;
	int rc;

	*n = 0;
	if (stat(path, &st) == 0 && st.st_size > (1 << 30))
		return 0;
	p = pcap_open_offline(path, err);
	if (p == NULL)
		return -1;
	while ((rc = pcap_next_ex(p, &h, &d)) == 1)
		(*n)++;
	pcap_close(p);
	return 0;
}

struct frame {
	uint32_t len;
	u_char *data;
};

/*
 * Is @p out exactly @p loops passes over @p in? Prints one line saying so or
 * naming the first difference. @return 0 when identical, -1 otherwise.
 */
int fwd_verify_output(const char *in, const char *out, uint64_t loops, FILE *f, bool json)
{
	char err[PCAP_ERRBUF_SIZE];
	struct frame *fr = NULL;
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n = 0, cap = 0, got = 0, bytes = 0;
	pcap_t *p;
	int rc = -1;
	char why[1024] = "";

	p = pcap_open_offline(in, err);
	if (p == NULL) {
		snprintf(why, sizeof(why), "cannot read input '%s': %s", in, err);
		goto report;
	}
	while (pcap_next_ex(p, &h, &d) == 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			fr = realloc(fr, cap * sizeof(*fr));
		}
		fr[n].len = h->caplen;
		fr[n].data = malloc(h->caplen);
		memcpy(fr[n].data, d, h->caplen);
		n++;
	}
	pcap_close(p);
	p = pcap_open_offline(out, err);
	if (p == NULL) {
		snprintf(why, sizeof(why), "cannot read output '%s': %s", out, err);
		goto report;
	}
	while (pcap_next_ex(p, &h, &d) == 1) {
		const struct frame *e = n ? &fr[got % n] : NULL;

		if (e == NULL || got >= n * loops) {
			snprintf(why, sizeof(why), "output has more than the %llu frames expected",
				 (unsigned long long)(n * loops));
			break;
		}
		if (h->caplen != e->len || h->len != e->len || memcmp(d, e->data, e->len) != 0) {
			snprintf(why, sizeof(why), "frame %llu (input frame %llu, pass %llu) differs: "
				 "%u bytes, expected %u", (unsigned long long)got + 1,
				 (unsigned long long)(got % n) + 1, (unsigned long long)(got / n) + 1,
				 h->caplen, e->len);
			break;
		}
		bytes += h->caplen;
		got++;
	}
	pcap_close(p);
	if (why[0] == '\0' && got != n * loops)
		snprintf(why, sizeof(why), "output has %llu frames, expected %llu (%llu passes over "
			 "%llu)", (unsigned long long)got, (unsigned long long)(n * loops),
			 (unsigned long long)loops, (unsigned long long)n);
	if (why[0] == '\0')
		rc = 0;
report:
	if (json)
		fprintf(f, "{\"verify\":{\"input\":\"%s\",\"output\":\"%s\",\"ok\":%s,\"frames\":%llu,"
			"\"bytes\":%llu,\"passes\":%llu%s%s%s}}\n", in, out, rc == 0 ? "true" : "false",
			(unsigned long long)got, (unsigned long long)bytes, (unsigned long long)loops,
			rc ? ",\"error\":\"" : "", why, rc ? "\"" : "");
	else if (rc == 0)
		fprintf(f, "verify: OK: %s holds %llu frames (%.1f MB), %llu pass(es) over the %llu "
			"frames of %s, byte for byte\n", out, (unsigned long long)got, bytes / 1e6,
			(unsigned long long)loops, (unsigned long long)n, in);
	else
		fprintf(f, "verify: FAILED: %s against %s: %s\n", out, in, why);
	for (uint64_t i = 0; i < n; i++)
		free(fr[i].data);
	free(fr);
	return rc;
}
