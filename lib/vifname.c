#include "vifname.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

static int
s_number(const char **p, uint32_t *v_r)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	if (*s == '0' && s[1] >= '0' && s[1] <= '9')
		return -EINVAL;         /* no leading zeros: vif01.0 is not vif1.0 */
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
		s++;
	}
	*p = s;
	*v_r = (uint32_t)v;
	return 0;
}

int
vs_vifname_parse(const char *name, uint32_t *domid_r, uint32_t *devid_r)
{
	const char *p = name;
	uint32_t dom, dev;

	if (name == NULL || strncmp(p, "vif", 3) != 0)
		return -EINVAL;
	p += 3;
	if (s_number(&p, &dom) < 0 || *p++ != '.' || s_number(&p, &dev) < 0)
		return -EINVAL;
	if (*p != '\0' && strcmp(p, "-emu") != 0)
		return -EINVAL;
	*domid_r = dom;
	*devid_r = dev;
	return 0;
}

int
vs_mac_valid(const char *s)
{
	if (s == NULL)
		return 0;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return 0;
	return s[17] == '\0';
}
