/*
 * vscope-agent's resource sampler (the `resources` directive): the guest's own /proc/stat,
 * /proc/meminfo, /proc/diskstats and /proc/net/dev every interval, read with pread on
 * descriptors kept open, held in a bounded batch that goes out as one Samples message
 * (lib/agent.proto) every batch interval.
 */
#ifndef VS_RESOURCES_H
#define VS_RESOURCES_H

#include <stddef.h>
#include <stdint.h>

#include "agentwire.h"

typedef struct vs_res_spec {
	int on;
	int64_t interval_ns;            /* 1..1000 ms */
	int64_t batch_ns;               /* >= interval, <= 10 s; default 250 ms */
} vs_res_spec_t;

/* "interval=10ms [batch=250ms]"; 0 or -EINVAL with err. */
int vs_res_spec_parse(const char *v, vs_res_spec_t *spec, char *err, size_t errlen);

typedef struct vs_res_dev {
	char name[VS_AGENT_MAX_DEV_NAME + 1];
	uint64_t v[5];                  /* disk: reads rsect writes wsect io_ms; net: rxb rxp txb txp */
} vs_res_dev_t;

typedef struct vs_res_sample {
	int64_t ts_ns;
	uint64_t cpu[8];                /* user nice system idle iowait irq softirq steal */
	uint64_t mem[6];                /* kB: total free available dirty writeback cached */
	uint8_t n_disks, n_nets;
	vs_res_dev_t disks[VS_AGENT_MAX_SAMPLE_DEVS];
	vs_res_dev_t nets[VS_AGENT_MAX_SAMPLE_DEVS];
} vs_res_sample_t;

typedef struct vs_res vs_res_t;

/* procdir: "/proc" (or a copy, for tests). NULL and errno when a file cannot be opened. */
vs_res_t *vs_res_new(const vs_res_spec_t *spec, const char *procdir);
void vs_res_destroy(vs_res_t **self_p);
/* Reads the four files once into s (the parsing; no allocation). 0 or -errno. */
int vs_res_read(vs_res_t *self, vs_res_sample_t *s);
/* Takes a sample when its time came (mono clock); CLOCK_REALTIME stamps it. */
void vs_res_poll(vs_res_t *self, int64_t now_mono);
/* The next time vs_res_poll has work (mono). */
int64_t vs_res_deadline(const vs_res_t *self);
/* 1 when the batch is due (or full), with the samples held: borrowed until vs_res_consume. */
int vs_res_due(const vs_res_t *self, int64_t now_mono, const vs_res_sample_t **s_r,
    size_t *n_r);
void vs_res_consume(vs_res_t *self, size_t n);
uint64_t vs_res_missed(const vs_res_t *self);   /* samples lost: read errors, full batch */
uint64_t vs_res_taken(const vs_res_t *self);
const vs_res_spec_t *vs_res_spec(const vs_res_t *self);

#endif
