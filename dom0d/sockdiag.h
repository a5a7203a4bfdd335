/* Dom0's TCP connections through NETLINK_SOCK_DIAG (what `ss -tan` reads). */
#ifndef VS_SOCKDIAG_H
#define VS_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>

#define VS_SOCKDIAG_MAX 65536   /* connections kept per snapshot; the rest are counted */

typedef struct vs_tcpconn {
	uint8_t family;                 /* AF_INET or AF_INET6 */
	uint8_t state;                  /* TCP_ESTABLISHED ... (linux/tcp.h numbering) */
	uint16_t sport, dport;          /* host order */
	uint8_t src[16], dst[16];
	uint32_t uid;
	uint64_t inode;
	uint32_t rtt_us;
	uint64_t bytes_acked, bytes_received;
} vs_tcpconn_t;

typedef struct vs_sockdiag vs_sockdiag_t;

vs_sockdiag_t *vs_sockdiag_new(void);   /* NULL and errno */
void vs_sockdiag_destroy(vs_sockdiag_t **self_p);
/* Refreshes the snapshot (IPv4 and IPv6). 0 or -errno. */
int vs_sockdiag_refresh(vs_sockdiag_t *self);
/* The snapshot: borrowed until the next refresh. */
const vs_tcpconn_t *vs_sockdiag_conns(const vs_sockdiag_t *self, size_t *n_r, size_t *total_r);
size_t vs_sockdiag_established(const vs_sockdiag_t *self);
const char *vs_tcp_state_name(uint8_t state);
/* "addr:port" or "[addr6]:port" into buf. */
void vs_tcpconn_addr(const vs_tcpconn_t *c, int remote, char *buf, size_t len);

#endif
