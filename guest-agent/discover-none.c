#include "discover.h"

#include <errno.h>

int
vs_discover_read(char *endpoint, size_t elen, char *serverkey, size_t klen)
{
	(void)endpoint; (void)elen; (void)serverkey; (void)klen;
	return -ENOTSUP;
}

int
vs_discover_publish(const char *pubkey)
{
	(void)pubkey;
	return -ENOTSUP;
}

const char *
vs_discover_name(void)
{
	return "none";
}
