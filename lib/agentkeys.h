/*
 * CURVE keys of the guest intake: key files made by `vscope keygen`, and the key directory
 * that binds each guest's public key to its domain (one file per domain, named for the
 * domain, holding its Z85 public key). Used by vscope(1) and vscoped alike.
 */
#ifndef VS_AGENTKEYS_H
#define VS_AGENTKEYS_H

#include <stddef.h>

#define VS_Z85_KEY_LEN   40             /* a 32-byte CURVE key in Z85 */
#define VS_KEYDOM_MAX    63             /* domain names: [A-Za-z0-9_.-], not starting with '.' */
#define VS_AGENTKEYS_MAX 4096           /* keys read from one directory, at most */
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define VS_AGENTKEYS_DEFAULT_DIR SYSCONFDIR "/vscope/agent-keys"
#define VS_INTAKE_KEY_DEFAULT    SYSCONFDIR "/vscope/intake.key"

typedef struct vs_agentkey {
	char domain[VS_KEYDOM_MAX + 1];
	char key[VS_Z85_KEY_LEN + 1];   /* Z85 public key */
} vs_agentkey_t;

/* 1 when s is exactly a Z85-encoded 32-byte key. */
int vs_z85_key_ok(const char *s);
/* 1 when name may name a domain in the key directory. */
int vs_keydom_ok(const char *name);

/* Writes a new key pair to path, mode 0600; refuses an existing file (-EEXIST). */
int vs_keyfile_write(const char *path, const char *pub, const char *sec, char *err,
    size_t errlen);
/* Reads a key file: "public-key = Z85" and "secret-key = Z85" lines (as written by
 * vs_keyfile_write), or one bare Z85 public key. sec_r may be NULL; a missing secret key is
 * then no error, else -ENOKEY. pub_r and sec_r have room for VS_Z85_KEY_LEN + 1. With sec_r,
 * a file that group or others may read is refused (-EPERM, naming the file and its mode). */
int vs_keyfile_read(const char *path, char *pub_r, char *sec_r, char *err, size_t errlen);
/* Makes a key pair and writes it to path unless path exists; reads it back either way. */
int vs_keyfile_ensure(const char *path, char *pub_r, char *sec_r, int *created_r, char *err,
    size_t errlen);

/* Binds key to domain in dir (creating dir 0755). -EEXIST when the key is already bound to
 * another domain (named in err); an existing binding of domain is replaced. */
int vs_agentkeys_add(const char *dir, const char *domain, const char *key, char *err,
    size_t errlen);
int vs_agentkeys_remove(const char *dir, const char *domain, char *err, size_t errlen);
/* Every valid binding in dir, sorted by domain, into a malloc'd array (free it). Files with
 * bad names or contents, and keys bound to more than one domain, are left out and counted in
 * *bad_r (may be NULL). A missing directory is an empty table. */
int vs_agentkeys_load(const char *dir, vs_agentkey_t **keys_r, size_t *n_r, size_t *bad_r,
    char *err, size_t errlen);

#endif
