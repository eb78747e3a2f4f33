/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * af_xdp's XDP program is ours (six instructions: redirect to the XSKMAP entry
 * of the receiving queue, else pass to the stack), attached through a
 * bpf_link, so it goes away with the port or the process, needs no bpffs and
 * cannot be left behind by a crash. libxdp's own program loading is not used.
 */
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "af_xdp_internal.h"

/*
 * Load the redirect program for the XSKMAP ap->map_fd: r2 = the frame's RX
 * queue, r1 = the map, r3 = XDP_PASS (what bpf_redirect_map returns for a
 * queue without a socket), then return bpf_redirect_map(r1, r2, r3).
 */
static int prog_load(struct afx_port *ap, const char *devstr)
{
	char verifier_log[1024] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, po, .log_buf = verifier_log,
		    .log_size = sizeof(verifier_log), .log_level = 0);
	struct bpf_insn prog[6];
	int e;

	memset(prog, 0, sizeof(prog));
	/* r2 = ctx->rx_queue_index */
	prog[0].code = BPF_LDX | BPF_MEM | BPF_W;
	prog[0].dst_reg = BPF_REG_2;
	prog[0].src_reg = BPF_REG_1;
	prog[0].off = offsetof(struct xdp_md, rx_queue_index);
	/* r1 = the XSKMAP (a 64-bit immediate: two slots) */
	prog[1].code = BPF_LD | BPF_DW | BPF_IMM;
	prog[1].dst_reg = BPF_REG_1;
	prog[1].src_reg = BPF_PSEUDO_MAP_FD;
	prog[1].imm = ap->map_fd;
	/* r3 = XDP_PASS: what bpf_redirect_map returns for a queue without a socket */
	prog[3].code = BPF_ALU64 | BPF_MOV | BPF_K;
	prog[3].dst_reg = BPF_REG_3;
	prog[3].imm = XDP_PASS;
	prog[4].code = BPF_JMP | BPF_CALL;
	prog[4].imm = BPF_FUNC_redirect_map;
	prog[5].code = BPF_JMP | BPF_EXIT;
	ap->prog_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "lab_xsk_redir", "Dual BSD/GPL", prog, 6,
				    &po);
	if (ap->prog_fd < 0) {
		e = errno;
		LAB_LOG(ERR, port, "%s: loading the XDP redirect program: %s %s", devstr,
			strerror(e), verifier_log);
		return -e;
	}
	return 0;
}

/*
 * Attach the loaded program to the interface: a bpf_link where the kernel has
 * them (detached when the fd closes, also by a crash), else a netlink attach
 * that refuses to replace another program.
 */
static int prog_link(struct afx_port *ap, const char *devstr)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = ap->xdp_flags);
	int e;

	ap->link_fd = bpf_link_create(ap->prog_fd, ap->ifindex, BPF_XDP, &lo);
	if (ap->link_fd >= 0)
		return 0;
	e = errno;
	if (e != EINVAL && e != EOPNOTSUPP && e != ENOSYS) {
		LAB_LOG(ERR, port, "%s: attaching XDP to '%s': %s%s", devstr, ap->iface, strerror(e),
			e == EBUSY || e == EEXIST ? " (another XDP program is attached; remove it "
			"with 'ip link set dev IFACE xdp off')" : "");
		return -e;
	}
	/* No XDP links in this kernel: attach by netlink, never replacing. */
	if (bpf_xdp_attach(ap->ifindex, ap->prog_fd, ap->xdp_flags | XDP_FLAGS_UPDATE_IF_NOEXIST,
			   NULL) < 0) {
		e = errno;
		LAB_LOG(ERR, port, "%s: attaching XDP to '%s': %s%s", devstr, ap->iface, strerror(e),
			e == EBUSY ? " (another XDP program is attached; remove it with "
			"'ip link set dev IFACE xdp off')" : "");
		return -e;
	}
	ap->legacy_attached = true;
	return 0;
}

/*
 * Load the redirect program for device queues 0..nq-1 and attach it to the
 * interface. On failure what was made is left in ap for afx_prog_detach().
 */
int afx_prog_attach(struct afx_port *ap, uint32_t nq, const char *devstr)
{
	int e, rc;

	ap->map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "lab_xsks", sizeof(int), sizeof(int), nq,
				    NULL);
	if (ap->map_fd < 0) {
		e = errno;
		LAB_LOG(ERR, port, "%s: XSKMAP of %u entries: %s%s", devstr, nq, strerror(e),
			e == EPERM ? " (needs CAP_BPF and CAP_NET_ADMIN, or root)" : "");
		return -e;
	}
	rc = prog_load(ap, devstr);
	return rc < 0 ? rc : prog_link(ap, devstr);
}

void afx_prog_detach(struct afx_port *ap)
{
	if (ap->link_fd >= 0)
		close(ap->link_fd);
	if (ap->legacy_attached) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = ap->prog_fd);

		(void)bpf_xdp_detach(ap->ifindex, ap->xdp_flags | XDP_FLAGS_REPLACE, &ao);
	}
	if (ap->prog_fd >= 0)
		close(ap->prog_fd);
	if (ap->map_fd >= 0)
		close(ap->map_fd);
	ap->link_fd = ap->prog_fd = ap->map_fd = -1;
	ap->legacy_attached = false;
}
