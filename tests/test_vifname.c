#include <stdint.h>

#include "tap.h"
#include "vifname.h"

int
main(void)
{
	static const struct { const char *name; int ok; uint32_t dom, dev; } t[] = {
		{ "vif1.0", 1, 1, 0 }, { "vif12.3", 1, 12, 3 }, { "vif0.0", 1, 0, 0 },
		{ "vif4294967295.7", 1, 4294967295u, 7 }, { "vif3.0-emu", 1, 3, 0 },
		{ "vif", 0, 0, 0 }, { "vif1", 0, 0, 0 }, { "vif1.", 0, 0, 0 }, { "vifx.0", 0, 0, 0 },
		{ "vif1.0x", 0, 0, 0 }, { "vif01.0", 0, 0, 0 }, { "vif4294967296.0", 0, 0, 0 },
		{ "vif-1.0", 0, 0, 0 }, { "eth0", 0, 0, 0 }, { "xvif1.0", 0, 0, 0 }, { "", 0, 0, 0 },
		{ "vif1.0.1", 0, 0, 0 }, { "vif1.0-emux", 0, 0, 0 }, { "vif 1.0", 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t dom = 999, dev = 999;
		int rc = vs_vifname_parse(t[i].name, &dom, &dev);

		if (t[i].ok)
			tap_ok(rc == 0 && dom == t[i].dom && dev == t[i].dev, "\"%s\" parses as %u.%u",
			    t[i].name, t[i].dom, t[i].dev);
		else
			tap_ok(rc < 0 && dom == 999, "\"%s\" is not a VIF name", t[i].name);
	}
	tap_ok(vs_vifname_parse(NULL, NULL, NULL) < 0, "NULL is refused");
	tap_ok(vs_mac_valid("00:16:3e:0A:ff:01"), "a MAC in either case is valid");
	tap_ok(!vs_mac_valid("00:16:3e:0a:ff:0") && !vs_mac_valid("00:16:3e:0a:ff:011") &&
	    !vs_mac_valid("00-16-3e-0a-ff-01") && !vs_mac_valid("00:16:3e:0a:ff:g1") &&
	    !vs_mac_valid("") && !vs_mac_valid(NULL), "short, long, dashed, non-hex, empty, NULL MACs are not");
	return tap_done();
}
