/*
 * Limits of the guest-agent protocol (lib/agent.proto holds the messages). Everything a
 * guest sends is untrusted: the intake checks a frame's size before decoding it, and every
 * count, name and number after.
 */
#ifndef VS_AGENTWIRE_H
#define VS_AGENTWIRE_H

#define VS_AGENT_VERSION        1
#define VS_AGENT_MAX_MSG        (64 * 1024)     /* bytes in one frame; larger: dropped */
#define VS_AGENT_MAX_LATENCY    64              /* Latency entries in one Report */
#define VS_AGENT_MAX_METRICS    512             /* Metric entries in one Report */
#define VS_AGENT_MAX_CONNS      1024            /* Conn entries in one Conns */
#define VS_AGENT_MAX_PROBE_LEN  47              /* [A-Za-z0-9_.-] */
#define VS_AGENT_MAX_METRIC_LEN 95              /* [A-Za-z0-9_.:-] */
/* LogLines (the agent's log tails) */
#define VS_AGENT_MAX_LOGS       16              /* log directives, LogLines.log < this */
#define VS_AGENT_MAX_LINE       8192            /* bytes in one line; longer lines are cut */
#define VS_AGENT_MAX_LOG_LINES  1024            /* lines in one LogLines */
#define VS_AGENT_MAX_LOG_TEXT   (56 * 1024)     /* line bytes in one LogLines (frame < 64 KiB) */
#define VS_AGENT_MAX_LOG_PATH   255
#define VS_AGENT_MAX_SPEC_LEN   47              /* [A-Za-z0-9_.-] */
#define VS_AGENT_MAX_LOGFORMAT  1023            /* printable */
/* Samples (the agent's resources directive) */
#define VS_AGENT_MAX_SAMPLES    256             /* Sample entries in one Samples */
#define VS_AGENT_MAX_SAMPLE_DEVS 16             /* disks, and interfaces, in one Sample */
#define VS_AGENT_MAX_DEV_NAME   31              /* [A-Za-z0-9_.:-] */
#define VS_AGENT_SAMPLE_AHEAD_NS  (10LL * 1000000000)   /* at most this ahead of Dom0 */
#define VS_AGENT_SAMPLE_BEHIND_NS (600LL * 1000000000)  /* at most this behind Dom0 */

#endif
