/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the vhost port's message handler (drivers/net/vhost/
 * vhost_msg.c), the requests a hostile front-end sends. The input is a list
 * of messages: [header: request, flags, size (12 bytes)] [descriptor count
 * (1 byte, 0..9)] [payload: size bytes, as many as the input has]. Each
 * descriptor is a 64 KiB memfd, so SET_MEM_TABLE maps real memory. A
 * two-queue-pair device handles them in turn, as the control thread would;
 * after a refusal the connection would end, so the device is reset.
 * Promises: no crash, no access outside what was mapped (ASan); a request
 * is handled (0) or refused (-EPROTO); a reply, when due, has the size of
 * its request's answer; every descriptor is kept or closed (none leaks);
 * at the end, after a reset, nothing stays mapped or open.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "../../drivers/net/vhost/vhost_internal.h"
#include "fuzz_common.h"

#define MEMFD_LEN (64u * 1024)

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	FUZZ_CHECK(d != NULL);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static int make_fd(void)
{
	int fd = memfd_create("fuzz-vhost", MFD_CLOEXEC);

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(ftruncate(fd, MEMFD_LEN) == 0);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vh_vq vq[4];
	struct vh_dev d = { .name = "fuzz", .nq = 2, .vq = vq };
	int before;

	fuzz_quiet();
	for (unsigned int i = 0; i < 4; i++)
		vh_vq_init(&vq[i]);
	before = count_fds();
	while (size >= sizeof(struct vhu_hdr) + 1) {
		uint8_t payload[VH_MAX_PAYLOAD] = { 0 };
		int fds[VHU_MAX_REGIONS + 1];
		struct vh_reply reply;
		struct vhu_hdr h;
		unsigned int nfds = data[sizeof(h)] % (VHU_MAX_REGIONS + 2);
		size_t take;
		int rc;

		memcpy(&h, data, sizeof(h));
		data += sizeof(h) + 1;
		size -= sizeof(h) + 1;
		take = h.size < size ? h.size : size;
		if (take > sizeof(payload))
			take = sizeof(payload);
		memcpy(payload, data, take);
		data += take;
		size -= take;
		for (unsigned int i = 0; i < nfds; i++)
			fds[i] = make_fd();
		rc = vh_msg_handle(&d, &h, payload, fds, nfds, &reply);
		FUZZ_CHECK(rc == 0 || rc == -EPROTO);
		for (unsigned int i = 0; i < nfds; i++)
			FUZZ_CHECK(fds[i] == -1);
		if (rc == 0 && reply.send)
			FUZZ_CHECK(reply.size == (h.request == VHU_GET_VRING_BASE
						  ? sizeof(struct vhu_state) : sizeof(uint64_t)));
		if (rc < 0)
			vh_dev_reset(&d);
		vh_dev_log_broken(&d);
	}
	vh_dev_reset(&d);
	FUZZ_CHECK(d.mem.n == 0);
	FUZZ_CHECK(count_fds() == before);
	return 0;
}
