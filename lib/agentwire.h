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

#endif
