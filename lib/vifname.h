/* Xen's backend interface names: vif<domid>.<devid> (and the emulated tap<domid>.<devid>). */
#ifndef VS_VIFNAME_H
#define VS_VIFNAME_H

#include <stdint.h>

/* 0 and the two numbers for "vif12.0" (also "vif12.0-emu"); -EINVAL for anything else,
 * including "vif", "vif1", "vif1.", "vifx.0", "vif1.0x", leading zeros and overflow. */
int vs_vifname_parse(const char *name, uint32_t *domid_r, uint32_t *devid_r);

/* 1 for a MAC address written "aa:bb:cc:dd:ee:ff" (either case), 0 for anything else;
 * for addresses read from xenstore or a domain's XML before they are used. */
int vs_mac_valid(const char *s);

#endif
