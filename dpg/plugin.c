/* DPG function plugins: shared objects loaded with dlopen, only from a directory that no
 * one but root can change, with the ABI version checked before any function is used.
 * Every directory from / down is opened with O_NOFOLLOW and checked on its descriptor, and
 * the plugin file is checked on the descriptor that is then loaded (/proc/self/fd/N), so
 * the checked objects are the loaded ones (no check-then-use race on names). */
#include "builtin.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_LEN 32

struct vs_dpg_plugin {
	void *dl;
	const vs_dpg_plugin_info_t *info;
	/* The checked file's descriptor, loaded as /proc/self/fd/N: kept open while the
	 * plugin is, because the dynamic loader knows objects by name too, and a second
	 * plugin loaded through a reused descriptor number would get the first one back. */
	int fd;
};

/* The loaded plugins' functions, in load order. */
static const vs_dpg_fn_t *s_loaded[VS_DPG_PLUGIN_MAXLOADED];
static size_t s_n_loaded;

const vs_dpg_fn_t *
vs_dpg_plugin_find(uint32_t id, const char *name)
{
	size_t i;

	for (i = 0; i < s_n_loaded; i++)
		if (name ? !strcasecmp(s_loaded[i]->name, name) : s_loaded[i]->id == id)
			return s_loaded[i];
	return NULL;
}

size_t
vs_dpg_plugin_list(const vs_dpg_fn_t *const **fns_r)
{
	*fns_r = s_loaded;
	return s_n_loaded;
}

static int __attribute__((format(printf, 4, 5)))
s_why(int rc, char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* A directory we trust: root's, and no one else may add, rename or remove its entries.
 * Above the plugin directory a sticky directory (/tmp) is fine: there only an entry's owner
 * (root, checked one level down) can rename or remove it. */
static int
s_check_dir(int fd, const char *path, int is_plugin_dir, char *why, size_t why_len)
{
	struct stat st;
	unsigned mode;

	if (fstat(fd, &st) < 0)
		return s_why(-errno, why, why_len, "%s: %s", path, strerror(errno));
	mode = (unsigned)(st.st_mode & 07777);
	if (st.st_uid != 0)
		return s_why(-EPERM, why, why_len, "%s: owned by uid %u, not root; plugins load "
			     "only from root's directories", path, (unsigned)st.st_uid);
	if ((mode & (S_IWGRP | S_IWOTH)) && (is_plugin_dir || !(mode & S_ISVTX)))
		return s_why(-EPERM, why, why_len, "%s: %s-writable (mode %04o); plugins load "
			     "only from directories that group and others cannot write", path,
			     (mode & S_IWOTH) ? "world" : "group", mode);
	return 0;
}

/* Opens dir component by component from /, never following a symlink: the fd in *fd_r. */
static int
s_open_dir(const char *dir, int *fd_r, char *why, size_t why_len)
{
	char path[PATH_MAX], *comp, *save = NULL, *copy = NULL;
	size_t len = strlen(dir), at = 1;
	int fd, nfd, rc;

	if (dir[0] != '/' || len >= sizeof(path))
		return s_why(-EINVAL, why, why_len, "plugin directory '%s': not an absolute path",
			     dir);
	copy = strdup(dir);
	if (!copy)
		return -ENOMEM;
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	strcpy(path, "/");
	for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		struct stat st;

		rc = s_check_dir(fd, path, 0, why, why_len);
		if (rc < 0)
			goto out;
		if (!strcmp(comp, ".") || !strcmp(comp, "..")) {
			rc = s_why(-EINVAL, why, why_len, "plugin directory '%s': '%s' in the "
				   "path", dir, comp);
			goto out;
		}
		at += (size_t)snprintf(path + at, sizeof(path) - at, "%s%s", at > 1 ? "/" : "",
				       comp);
		if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
			rc = s_why(-ELOOP, why, why_len, "%s: a symlink; give the plugin "
				   "directory's real path", path);
			goto out;
		}
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			rc = s_why(-errno, why, why_len, "%s: %s", path, strerror(errno));
			goto out;
		}
		close(fd);
		fd = nfd;
	}
	rc = s_check_dir(fd, path, 1, why, why_len);
out:
	free(copy);
	if (rc == 0)
		*fd_r = fd;
	else if (fd >= 0)
		close(fd);
	return rc;
}

int
vs_dpg_plugin_dir_check(const char *dir, char *why, size_t why_len)
{
	int fd = -1, rc;

	if (why && why_len)
		why[0] = '\0';
	if (!dir)
		return s_why(-EINVAL, why, why_len, "no plugin directory");
	rc = s_open_dir(dir, &fd, why, why_len);
	if (rc == 0)
		close(fd);
	return rc;
}

static int
s_check_fn(const vs_dpg_fn_t *fn, const vs_dpg_plugin_info_t *info, uint32_t i,
	   const char *path, char *why, size_t why_len)
{
	const vs_dpg_fn_t *bi;
	size_t len;
	uint32_t j;

	if (!fn)
		return s_why(-ENOEXEC, why, why_len, "%s: function %u is NULL", path, i);
	if (fn->abi != VS_DPG_ABI_VERSION)
		return s_why(-EPROTO, why, why_len, "%s: function %u has ABI version %u, this "
			     "vscope loads version %u", path, i, fn->abi, VS_DPG_ABI_VERSION);
	len = fn->name ? strnlen(fn->name, NAME_MAX_LEN + 1) : 0;
	if (len == 0 || len > NAME_MAX_LEN)
		return s_why(-ENOEXEC, why, why_len, "%s: function %u: no name, or longer than %d",
			     path, i, NAME_MAX_LEN);
	for (j = 0; j < len; j++)
		if (!((fn->name[j] >= 'A' && fn->name[j] <= 'Z') ||
		      (fn->name[j] >= 'a' && fn->name[j] <= 'z') ||
		      (fn->name[j] >= '0' && fn->name[j] <= '9') || fn->name[j] == '_' ||
		      fn->name[j] == '-'))
			return s_why(-ENOEXEC, why, why_len, "%s: function %u: name not made of "
				     "letters, digits, '_' and '-'", path, i);
	if (fn->id < VS_DPG_FN_PLUGIN_MIN)
		return s_why(-ENOEXEC, why, why_len, "%s: %s: id %u is below %u (built-ins' "
			     "range)", path, fn->name, fn->id, VS_DPG_FN_PLUGIN_MIN);
	if ((bi = vs_dpg_fn_lookup_name(fn->name)) != NULL ||
	    (bi = vs_dpg_fn_lookup(fn->id)) != NULL)
		return s_why(-EEXIST, why, why_len, "%s: %s: %s function has that %s", path,
			     fn->name, bi->id < VS_DPG_FN_PLUGIN_MIN ? "a built-in" :
			     "an already loaded plugin's",
			     !strcasecmp(bi->name, fn->name) ? "name" : "id");
	switch (fn->kind) {
	case VS_DPG_FN_LOCAL:
	case VS_DPG_FN_COMBINE:
		if (!fn->init || !fn->local || !fn->combine || !fn->result)
			return s_why(-ENOEXEC, why, why_len, "%s: %s: a %s function needs init, "
				     "local, combine and result", path, fn->name,
				     fn->kind == VS_DPG_FN_LOCAL ? "local" : "combine");
		break;
	case VS_DPG_FN_CENTRAL:
		if (!fn->central)
			return s_why(-ENOEXEC, why, why_len, "%s: %s: a central function needs "
				     "central", path, fn->name);
		break;
	default:
		return s_why(-ENOEXEC, why, why_len, "%s: %s: unknown kind %d", path, fn->name,
			     (int)fn->kind);
	}
	for (j = 0; j < i; j++)
		if (info->fns[j]->id == fn->id || !strcasecmp(info->fns[j]->name, fn->name))
			return s_why(-EEXIST, why, why_len, "%s: %s: two functions with the same "
				     "id or name", path, fn->name);
	return 0;
}

int
vs_dpg_plugin_load(const char *dir, const char *file, vs_dpg_plugin_t **plugin_r,
		   char *why, size_t why_len)
{
	char path[PATH_MAX], fdpath[64];
	vs_dpg_plugin_t *pl = NULL;
	const vs_dpg_plugin_info_t *info;
	struct stat st;
	int dfd = -1, ffd = -1, rc;
	void *dl = NULL;
	uint32_t i;

	if (why && why_len)
		why[0] = '\0';
	if (!dir || !file || !plugin_r)
		return s_why(-EINVAL, why, why_len, "no plugin directory or file");
	*plugin_r = NULL;
	if (!file[0] || strchr(file, '/') || !strcmp(file, ".") || !strcmp(file, "..") ||
	    strlen(file) > NAME_MAX)
		return s_why(-EINVAL, why, why_len, "plugin '%s': a file name, without '/', is "
			     "expected", file);
	rc = s_open_dir(dir, &dfd, why, why_len);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", file);
	if (fstatat(dfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
		rc = s_why(-ELOOP, why, why_len, "%s: a symlink; plugins must be regular files in "
			   "the plugin directory", path);
		goto out;
	}
	ffd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (ffd < 0) {
		rc = s_why(-errno, why, why_len, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(ffd, &st) < 0) {
		rc = s_why(-errno, why, why_len, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = s_why(-EPERM, why, why_len, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != 0) {
		rc = s_why(-EPERM, why, why_len, "%s: owned by uid %u, not root", path,
			   (unsigned)st.st_uid);
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		rc = s_why(-EPERM, why, why_len, "%s: %s-writable (mode %04o)", path,
			   (st.st_mode & S_IWOTH) ? "world" : "group",
			   (unsigned)(st.st_mode & 07777));
		goto out;
	}
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", ffd);
	dl = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		const char *e = dlerror();

		rc = s_why(-ENOEXEC, why, why_len, "%s: cannot load: %s", path, e ? e : "?");
		goto out;
	}
	info = dlsym(dl, VS_DPG_PLUGIN_SYMBOL);
	if (!info) {
		rc = s_why(-ENOEXEC, why, why_len, "%s: exports no %s symbol; not a vscope DPG "
			   "plugin", path, VS_DPG_PLUGIN_SYMBOL);
		goto out;
	}
	if (info->abi != VS_DPG_ABI_VERSION) {
		rc = s_why(-EPROTO, why, why_len, "%s: built for DPG plugin ABI version %u, this "
			   "vscope loads version %u", path, info->abi, VS_DPG_ABI_VERSION);
		goto out;
	}
	if (info->n_fns == 0 || info->n_fns > VS_DPG_PLUGIN_MAXFNS || !info->fns) {
		rc = s_why(-ENOEXEC, why, why_len, "%s: %u functions (1 to %u expected)", path,
			   info->n_fns, VS_DPG_PLUGIN_MAXFNS);
		goto out;
	}
	for (i = 0; i < info->n_fns; i++) {
		rc = s_check_fn(info->fns[i], info, i, path, why, why_len);
		if (rc < 0)
			goto out;
	}
	if (s_n_loaded + info->n_fns > VS_DPG_PLUGIN_MAXLOADED) {
		rc = s_why(-ENOSPC, why, why_len, "%s: more than %u plugin functions loaded",
			   path, VS_DPG_PLUGIN_MAXLOADED);
		goto out;
	}
	pl = calloc(1, sizeof(*pl));
	if (!pl) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < info->n_fns; i++)
		s_loaded[s_n_loaded++] = info->fns[i];
	pl->dl = dl;
	pl->info = info;
	pl->fd = ffd;
	ffd = -1;
	dl = NULL;
	*plugin_r = pl;
	rc = 0;
out:
	if (dl)
		dlclose(dl);
	if (ffd >= 0)
		close(ffd);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

size_t
vs_dpg_plugin_fns(const vs_dpg_plugin_t *pl, const vs_dpg_fn_t *const **fns_r)
{
	*fns_r = pl->info->fns;
	return pl->info->n_fns;
}

const vs_dpg_fn_t *
vs_dpg_plugin_lookup_name(const vs_dpg_plugin_t *pl, const char *name)
{
	uint32_t i;

	if (!pl || !name)
		return NULL;
	for (i = 0; i < pl->info->n_fns; i++)
		if (!strcasecmp(pl->info->fns[i]->name, name))
			return pl->info->fns[i];
	return NULL;
}

void
vs_dpg_plugin_destroy(vs_dpg_plugin_t **pl_p)
{
	const vs_dpg_plugin_info_t *info;
	size_t i, j;

	if (!pl_p || !*pl_p)
		return;
	info = (*pl_p)->info;
	for (i = 0; i < s_n_loaded;) {
		for (j = 0; j < info->n_fns && s_loaded[i] != info->fns[j]; j++)
			;
		if (j < info->n_fns) {
			memmove(&s_loaded[i], &s_loaded[i + 1],
				(s_n_loaded - i - 1) * sizeof(s_loaded[0]));
			s_n_loaded--;
		} else {
			i++;
		}
	}
	dlclose((*pl_p)->dl);
	close((*pl_p)->fd);
	free(*pl_p);
	*pl_p = NULL;
}
