/*
 * libFuzzer target: the guest intake's decoder (dom0d/intake_wire.c) on bytes as a guest
 * would send them: size check, protobuf decode, validation, record emission; and every
 * emitted record through the parent's second check, which must accept it. LogLines go
 * through the child's spec and order check (intake_logs.c, with mscope's LogFormat parser)
 * and their records through the parent's reassembly, which must take every message whole.
 * Samples records go through the parent's rebuild, which must take every one the child
 * passed (the child's order check makes them increase; a seed's fixed times are over 600 s
 * behind Dom0's clock soon after it was made, so the fuzzer explores the checks before the
 * time check more than the emission).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static vs_intake_logs_t *s_q;
static vs_intake_logcheck_t *s_lc;
static vs_intake_samples_t *s_sq;

static int
s_emit(void *arg, const vs_intake_rec_t *r)
{
	char err[160];

	(void)arg;
	if (r->dom != 5 || vs_intake_rec_check(r, err, sizeof(err)) != 0)
		abort();        /* the child emitted what the parent refuses: a bug */
	if (r->type >= VS_REC_LOG_BEGIN && r->type <= VS_REC_LOG_END &&
	    vs_intake_logs_rec(s_q, r) != 0)
		abort();        /* a message the parent cannot rebuild */
	if (r->type >= VS_REC_SAMPLE_CPU && r->type <= VS_REC_SAMPLE_NET &&
	    vs_intake_samples_rec(s_sq, r) != 0)
		abort();        /* a sample the parent cannot rebuild */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[160];
	vs_intake_msginfo_t info;
	vs_intake_drop_t d;

	if (s_q == NULL) {
		static vs_intake_cfgmsg_t cfg;

		cfg.n_specs = 2;
		strcpy(cfg.specs[0], "apache-milliscope");
		strcpy(cfg.specs[1], "nginx-mscope");
		s_q = vs_intake_logs_new(1 << 20);
		s_lc = vs_intake_logcheck_new(&cfg);
		s_sq = vs_intake_samples_new(1 << 20);
		if (s_q == NULL || s_lc == NULL || s_sq == NULL)
			abort();
		vs_intake_set_logcheck(vs_intake_logcheck, s_lc);
	}
	d = vs_intake_decode(data, size, 5, s_emit, NULL, &info, err,
	    sizeof(err));

	if (d >= VS_DROP_N || (d != VS_DROP_NONE && info.n_records != 0))
		abort();
	return 0;
}
