/*
 * vmasterd's authorized host keys (-K DIR): one file per host, HOST.pub, holding the host's
 * CURVE public key (a bare Z85 key, as `vscope keygen -o FILE` prints it, or the
 * "public-key = Z85" line of a key file). The ZAP handler admits a CURVE client only with
 * one of these keys, and names it by HOST.
 */
#ifndef VS_HOSTKEYS_H
#define VS_HOSTKEYS_H

#include <stddef.h>
#include <stdint.h>

#include "agentkeys.h"

#define VS_HOSTKEYS_MAX 4096            /* keys read from the directory, at most */

typedef struct vs_hostkey {
	char host[VS_KEYDOM_MAX + 1];
	char key[VS_Z85_KEY_LEN + 1];   /* Z85 public key */
	uint8_t bin[32];                /* the same, binary (what ZAP carries) */
} vs_hostkey_t;

/* Checks dir (root's, not writable by group or others: else an error naming the problem)
 * and reads every HOST.pub in it into a malloc'd array sorted by host (free it). Files
 * with other names are ignored; bad names or contents, non-regular files and keys bound to
 * two hosts are left out and counted in *bad_r (may be NULL). */
int vs_hostkeys_load(const char *dir, vs_hostkey_t **keys_r, size_t *n_r, size_t *bad_r,
    char *err, size_t errlen);
/* The entry holding binary key bin, or NULL. */
const vs_hostkey_t *vs_hostkeys_find(const vs_hostkey_t *keys, size_t n, const uint8_t *bin);
/* The entry of host, or NULL. */
const vs_hostkey_t *vs_hostkeys_by_host(const vs_hostkey_t *keys, size_t n, const char *host);

#endif
