/* igfix — builds the project's own fixtures.
 *
 *   igfix evtx OUT.evtx [--scenario basic|demo|big] [--count N] [--seed S]
 *                       [--manifest OUT.jsonl]
 *
 * basic: N (default 100) varied events on WEB01.contoso.local — Sysmon 1 process creations,
 *        Security 4688, System 7045 service installs — in that rotation.
 * demo:  an IIS compromise on host WEB01 told in 41 events: a web shell
 *        under w3wp.exe installs a native module with appcmd.exe, a managed
 *        one goes into the GAC, PowerShell registers another global module
 *        and applicationHost.config is rewritten by a non-IIS process.
 * big:   N (default 3000) events like basic plus large PowerShell script
 *        blocks, spanning many chunks.
 * Output is deterministic for a given scenario, count and seed.  The
 * manifest lists, one JSON object per record, what was written (record id,
 * System values, FILETIME, UserID, data), so that
 * tests can compare a decoder's output with the intent. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/civil.h"
#include "core/num.h"
#include "iisguard/evtx_writer.h"
#include "igfix.h"

#define MAX_DATA 32

static const char *const SYSMON = "Microsoft-Windows-Sysmon";
static const char *const SYSMON_GUID = "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}";
static const char *const SYSMON_CH = "Microsoft-Windows-Sysmon/Operational";
static const char *const SEC = "Microsoft-Windows-Security-Auditing";
static const char *const SEC_GUID = "{54849625-5478-4994-A5BA-3E3B0328C30D}";
static const char *const SCM = "Service Control Manager";
static const char *const SCM_GUID = "{555908D1-A6D7-4695-8E1E-26931D2012F4}";
static const char *const PS = "Microsoft-Windows-PowerShell";
static const char *const PS_GUID = "{A0C1853B-5C40-4B15-8766-3CF1C58F985A}";
static const char *const PS_CH = "Microsoft-Windows-PowerShell/Operational";
static const char *const IISCFG = "Microsoft-Windows-IIS-Configuration";
static const char *const IISCFG_GUID = "{DC0B8E51-4863-407A-BC3C-1B479B2978AC}";
static const char *const IISCFG_CH = "Microsoft-IIS-Configuration/Operational";

static const char *const SID_SYSTEM = "S-1-5-18";
static const char *const SID_APPPOOL =
    "S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415";
static const char *const SID_ADMIN = "S-1-5-21-3623811015-3361044348-30300820-1104";

/* A process as the logs describe it. */
typedef struct proc {
    char guid[40];
    uint32_t pid;
    const char *image, *cmdline, *user, *sid, *integrity, *label, *cwd;
    const char *desc, *product, *company, *orig;
    uint32_t logon_id;
    const struct proc *parent;
} proc;

typedef struct gen {
    ig_evtx_writer *w;
    FILE *manifest;
    const char *host;
    uint64_t t; /* current FILETIME */
    uint32_t rng;
    uint32_t next_pid;
    unsigned errors;
    /* the event being built */
    const char *names[MAX_DATA];
    const char *values[MAX_DATA];
    char store[MAX_DATA][512]; /* formatted values */
    size_t n;
} gen;

static uint32_t rnd(gen *g)
{
    uint32_t x = g->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    g->rng = x;
    return x;
}

/* Advances the clock by min..max milliseconds plus some 100 ns ticks. */
static void tick(gen *g, uint32_t min_ms, uint32_t max_ms)
{
    uint32_t ms = min_ms + rnd(g) % (max_ms - min_ms + 1);
    g->t += (uint64_t)ms * 10000u + rnd(g) % 10000u;
}

/* FILETIME → "YYYY-MM-DD hh:mm:ss.mmm" (Sysmon's UtcTime). */
static void utc_text(uint64_t ft, char *out, size_t size)
{
    uint64_t ms_total = ft / 10000u;
    uint64_t secs = ms_total / 1000u;
    unsigned ms = (unsigned)(ms_total % 1000u);
    int64_t days = (int64_t)(secs / 86400u) - IG_DAYS_1601_TO_1970;
    unsigned sod = (unsigned)(secs % 86400u);
    int64_t y;
    unsigned m, d;
    ig_civil_from_days(days, &y, &m, &d);
    snprintf(out, size, "%04lld-%02u-%02u %02u:%02u:%02u.%03u", (long long)y, m, d, sod / 3600,
             sod / 60 % 60, sod % 60, ms);
}

/* ---- event building -------------------------------------------------------- */

static void d_begin(gen *g)
{
    g->n = 0;
}

static void d_str(gen *g, const char *name, const char *value)
{
    if (g->n == MAX_DATA)
        return;
    g->names[g->n] = name;
    g->values[g->n] = value;
    g->n++;
}

static void d_fmt(gen *g, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void d_fmt(gen *g, const char *name, const char *fmt, ...)
{
    if (g->n == MAX_DATA)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->store[g->n], sizeof(g->store[g->n]), fmt, ap);
    va_end(ap);
    d_str(g, name, g->store[g->n]);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void emit(gen *g, const char *provider, const char *guid, uint16_t id, uint8_t version,
                 uint8_t level, uint16_t task, uint64_t keywords, uint32_t pid, uint32_t tid,
                 const char *channel, const char *sid)
{
    ig_evtx_event ev = {
        .provider = provider,
        .provider_guid = guid,
        .event_id = id,
        .version = version,
        .level = level,
        .task = task,
        .opcode = 0,
        .keywords = keywords,
        .time_filetime = g->t,
        .pid = pid,
        .tid = tid,
        .channel = channel,
        .computer = g->host,
        .user_sid = sid,
        .ndata = g->n,
        .data_names = g->names,
        .data_values = g->values,
    };
    if (provider == PS && id == 4104)
        ev.opcode = 15; /* "On create calls" */
    ig_err e = ig_evtx_writer_add(g->w, &ev);
    if (e != IG_OK) {
        fprintf(stderr, "igfix: event %u: %s\n", id, ig_strerror(e));
        g->errors++;
        return;
    }
    if (g->manifest == NULL)
        return;
    FILE *f = g->manifest;
    fprintf(f,
            "{\"EventRecordID\":%llu,\"EventID\":%u,\"Version\":%u,\"Level\":%u,\"Task\":%u,"
            "\"Opcode\":%u,\"Keywords\":\"0x%llx\",\"ProcessID\":%u,\"ThreadID\":%u,\"Provider\":",
            (unsigned long long)ig_evtx_writer_count(g->w), id, ev.version, ev.level, ev.task,
            ev.opcode, (unsigned long long)ev.keywords, ev.pid, ev.tid);
    json_str(f, provider);
    fputs(",\"Guid\":", f);
    if (guid != NULL)
        json_str(f, guid);
    else
        fputs("null", f);
    fputs(",\"Channel\":", f);
    json_str(f, channel);
    fputs(",\"Computer\":", f);
    json_str(f, g->host);
    fprintf(f, ",\"FileTime\":%llu,\"UserID\":", (unsigned long long)g->t);
    if (sid != NULL)
        json_str(f, sid);
    else
        fputs("null", f);
    fputs(",\"Data\":[", f);
    for (size_t i = 0; i < g->n; i++) {
        fputs(i ? ",[" : "[", f);
        json_str(f, g->names[i]);
        fputc(',', f);
        json_str(f, g->values[i]);
        fputc(']', f);
    }
    fputs("]}\n", f);
}

/* ---- processes ------------------------------------------------------------- */

/* Writes "PREFIX <base64 of ASCII `text` as UTF-16LE>", as PowerShell's
 * -EncodedCommand takes it, into out[size]; text longer than fits is cut. */
static void encoded_command(const char *prefix, const char *text, char *out, size_t size)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t at = (size_t)snprintf(out, size, "%s", prefix), n = strlen(text) * 2, i = 0;
    uint8_t in[3];
    while (i < n && at + 5 <= size) {
        size_t k = 0;
        for (; k < 3 && i < n; k++, i++)
            in[k] = (i & 1) ? 0 : (uint8_t)text[i / 2];
        uint32_t v =
            (uint32_t)in[0] << 16 | (k > 1 ? (uint32_t)in[1] << 8 : 0) | (k > 2 ? in[2] : 0);
        out[at++] = b64[v >> 18 & 63];
        out[at++] = b64[v >> 12 & 63];
        out[at++] = k > 1 ? b64[v >> 6 & 63] : '=';
        out[at++] = k > 2 ? b64[v & 63] : '=';
    }
    out[at < size ? at : size - 1] = '\0';
}

static void proc_init(gen *g, proc *p, const proc *parent, const char *image, const char *cmdline,
                      const char *user, const char *sid)
{
    memset(p, 0, sizeof(*p));
    p->pid = g->next_pid;
    g->next_pid += 4u * (1u + rnd(g) % 300u);
    if (g->next_pid > 60000u)
        g->next_pid = 1000u + rnd(g) % 1000u * 4u;
    uint32_t r1 = rnd(g), r2 = rnd(g), r3 = rnd(g), r4 = rnd(g);
    snprintf(p->guid, sizeof(p->guid), "{%08x-%04x-%04x-%04x-%012llx}", 0x9b6d3c1au,
             (unsigned)(r1 & 0xffffu), 0x65f0u, (unsigned)(r2 & 0xffffu),
             (unsigned long long)((uint64_t)r3 << 16 | (r4 & 0xffffu)));
    p->parent = parent;
    p->image = image;
    p->cmdline = cmdline;
    p->user = user;
    p->sid = sid;
    p->cwd = "C:\\Windows\\system32\\";
    p->integrity = strcmp(sid, SID_SYSTEM) == 0 ? "System" : "High";
    p->label = strcmp(sid, SID_SYSTEM) == 0 ? "S-1-16-16384" : "S-1-16-12288";
    p->logon_id = strcmp(sid, SID_SYSTEM) == 0 ? 0x3e7u : 0x2b4c1d0u;
    p->product = "Microsoft\xc2\xae Windows\xc2\xae Operating System";
    p->company = "Microsoft Corporation";
    const char *base = strrchr(image, '\\');
    p->orig = base ? base + 1 : image;
    p->desc = p->orig;
}

static void hex_hash(gen *g, char *out, size_t size, const char *label, unsigned nhex)
{
    static const char hx[] = "0123456789ABCDEF";
    size_t k = (size_t)snprintf(out, size, "%s=", label);
    for (unsigned i = 0; i < nhex && k + 1 < size; i++)
        out[k++] = hx[rnd(g) & 15u];
    out[k] = '\0';
}

/* Sysmon event 1 (schema 4.x, version 5). */
static void sysmon_proc(gen *g, const proc *p)
{
    char utc[64], hashes[160];
    static const proc none = {"{00000000-0000-0000-0000-000000000000}",
                              0,
                              "-",
                              "-",
                              "-",
                              "S-1-0-0",
                              "",
                              "",
                              "",
                              "",
                              "",
                              "",
                              "",
                              0,
                              NULL};
    const proc *pp = p->parent ? p->parent : &none;
    utc_text(g->t, utc, sizeof(utc));
    hex_hash(g, hashes, sizeof(hashes), "SHA256", 64);
    d_begin(g);
    d_str(g, "RuleName", "-");
    d_str(g, "UtcTime", utc);
    d_str(g, "ProcessGuid", p->guid);
    d_fmt(g, "ProcessId", "%u", p->pid);
    d_str(g, "Image", p->image);
    d_str(g, "FileVersion", "10.0.20348.1 (WinBuild.160101.0800)");
    d_str(g, "Description", p->desc);
    d_str(g, "Product", p->product);
    d_str(g, "Company", p->company);
    d_str(g, "OriginalFileName", p->orig);
    d_str(g, "CommandLine", p->cmdline);
    d_str(g, "CurrentDirectory", p->cwd);
    d_str(g, "User", p->user);
    d_fmt(g, "LogonGuid", "{9b6d3c1a-0000-65f0-%04x-000000000000}", p->logon_id & 0xffffu);
    d_fmt(g, "LogonId", "0x%x", p->logon_id);
    d_str(g, "TerminalSessionId", "0");
    d_str(g, "IntegrityLevel", p->integrity);
    d_str(g, "Hashes", hashes);
    d_str(g, "ParentProcessGuid", pp->guid);
    d_fmt(g, "ParentProcessId", "%u", pp->pid);
    d_str(g, "ParentImage", pp->image);
    d_str(g, "ParentCommandLine", pp->cmdline);
    d_str(g, "ParentUser", pp->user);
    emit(g, SYSMON, SYSMON_GUID, 1, 5, 4, 1, 0x8000000000000000ull, 3012, 3900 + rnd(g) % 400,
         SYSMON_CH, SID_SYSTEM);
}

/* Security 4688 (version 2): a new process has been created.  The subject
 * is the process' account (the machine account for SYSTEM). */
static void sec_4688(gen *g, const proc *p)
{
    char dom[64] = "CONTOSO", name[64] = "WEB01$";
    const proc *pp = p->parent;
    if (strcmp(p->sid, SID_SYSTEM) != 0) {
        const char *bs = strchr(p->user, '\\');
        size_t dl = bs ? (size_t)(bs - p->user) : 0;
        snprintf(dom, sizeof(dom), "%.*s", (int)dl, p->user);
        snprintf(name, sizeof(name), "%s", bs ? bs + 1 : p->user);
    }
    d_begin(g);
    d_str(g, "SubjectUserSid", p->sid);
    d_str(g, "SubjectUserName", name);
    d_str(g, "SubjectDomainName", dom);
    d_fmt(g, "SubjectLogonId", "0x%x", p->logon_id);
    d_fmt(g, "NewProcessId", "0x%x", p->pid);
    d_str(g, "NewProcessName", p->image);
    d_str(g, "TokenElevationType", "%%1936");
    d_fmt(g, "ProcessId", "0x%x", pp ? pp->pid : 4u);
    d_str(g, "CommandLine", p->cmdline);
    d_str(g, "TargetUserSid", "S-1-0-0");
    d_str(g, "TargetUserName", "-");
    d_str(g, "TargetDomainName", "-");
    d_str(g, "TargetLogonId", "0x0");
    d_str(g, "ParentProcessName", pp ? pp->image : "");
    d_str(g, "MandatoryLabel", p->label);
    emit(g, SEC, SEC_GUID, 4688, 2, 0, 13312, 0x8020000000000000ull, 4, 7000 + rnd(g) % 900,
         "Security", NULL);
}

/* System 7045: a service was installed. */
static void scm_7045(gen *g, const char *svc, const char *path, const char *start,
                     const char *account, const char *sid)
{
    d_begin(g);
    d_str(g, "ServiceName", svc);
    d_str(g, "ImagePath", path);
    d_str(g, "ServiceType", "user mode service");
    d_str(g, "StartType", start);
    d_str(g, "AccountName", account);
    emit(g, SCM, SCM_GUID, 7045, 0, 4, 0, 0x8080000000000000ull, 684, 2400 + rnd(g) % 300, "System",
         sid);
}

/* Sysmon event 11 (version 2): file created. */
static void sysmon_file(gen *g, const proc *p, const char *target)
{
    char utc[64];
    utc_text(g->t, utc, sizeof(utc));
    d_begin(g);
    d_str(g, "RuleName", "-");
    d_str(g, "UtcTime", utc);
    d_str(g, "ProcessGuid", p->guid);
    d_fmt(g, "ProcessId", "%u", p->pid);
    d_str(g, "Image", p->image);
    d_str(g, "TargetFilename", target);
    d_str(g, "CreationUtcTime", utc);
    d_str(g, "User", p->user);
    emit(g, SYSMON, SYSMON_GUID, 11, 2, 4, 11, 0x8000000000000000ull, 3012, 3900 + rnd(g) % 400,
         SYSMON_CH, SID_SYSTEM);
}

/* Sysmon event 7 (version 3): image loaded. */
static void sysmon_load(gen *g, const proc *p, const char *dll, bool signed_ms)
{
    char utc[64], hashes[160];
    utc_text(g->t, utc, sizeof(utc));
    hex_hash(g, hashes, sizeof(hashes), "SHA256", 64);
    d_begin(g);
    d_str(g, "RuleName", "-");
    d_str(g, "UtcTime", utc);
    d_str(g, "ProcessGuid", p->guid);
    d_fmt(g, "ProcessId", "%u", p->pid);
    d_str(g, "Image", p->image);
    d_str(g, "ImageLoaded", dll);
    d_str(g, "FileVersion", signed_ms ? "10.0.20348.1 (WinBuild.160101.0800)" : "-");
    d_str(g, "Description", signed_ms ? "IIS module" : "-");
    d_str(g, "Product", signed_ms ? "Internet Information Services" : "-");
    d_str(g, "Company", signed_ms ? "Microsoft Corporation" : "-");
    d_str(g, "OriginalFileName", "-");
    d_str(g, "Hashes", hashes);
    d_str(g, "Signed", signed_ms ? "true" : "false");
    d_str(g, "Signature", signed_ms ? "Microsoft Windows" : "-");
    d_str(g, "SignatureStatus", signed_ms ? "Valid" : "Unavailable");
    d_str(g, "User", p->user);
    emit(g, SYSMON, SYSMON_GUID, 7, 3, 4, 7, 0x8000000000000000ull, 3012, 3900 + rnd(g) % 400,
         SYSMON_CH, SID_SYSTEM);
}

/* PowerShell 4104 (version 1): script block logging. */
static void ps_4104(gen *g, const char *text, const char *sid, uint32_t pid, bool warning)
{
    d_begin(g);
    d_str(g, "MessageNumber", "1");
    d_str(g, "MessageTotal", "1");
    d_str(g, "ScriptBlockText", text);
    uint32_t r[6];
    for (int i = 0; i < 6; i++)
        r[i] = rnd(g);
    d_fmt(g, "ScriptBlockId", "%08x-%04x-4%03x-a%03x-%08x%04x", r[0], r[1] & 0xffffu, r[2] & 0xfffu,
          r[3] & 0xfffu, r[4], r[5] & 0xffffu);
    d_str(g, "Path", "");
    emit(g, PS, PS_GUID, 4104, 1, warning ? 3 : 5, 2, 0, pid, 5000 + rnd(g) % 900, PS_CH, sid);
}

/* IIS configuration audit 29: a change was committed. */
static void iis_29(gen *g, uint32_t pid, const char *cfg, const char *oldv, const char *newv)
{
    d_begin(g);
    d_fmt(g, "PID", "%u", pid);
    d_str(g, "Configuration", cfg);
    d_str(g, "ConfigPath", "MACHINE/WEBROOT/APPHOST");
    d_str(g, "OldValue", oldv);
    d_str(g, "NewValue", newv);
    emit(g, IISCFG, IISCFG_GUID, 29, 0, 4, 0, 0x8000000000000000ull, pid, 4100 + rnd(g) % 200,
         IISCFG_CH, SID_ADMIN);
}

/* A process starts: Sysmon 1, then Security 4688 a few ms later. */
static void proc_start(gen *g, const proc *p)
{
    sysmon_proc(g, p);
    tick(g, 5, 20);
    sec_4688(g, p);
}

/* ---- scenarios ------------------------------------------------------------- */

static const proc *system_procs(gen *g, proc *services, proc *svchost)
{
    proc_init(g, services, NULL, "C:\\Windows\\System32\\services.exe",
              "C:\\Windows\\system32\\services.exe", "NT AUTHORITY\\SYSTEM", SID_SYSTEM);
    services->pid = 684;
    proc_init(g, svchost, services, "C:\\Windows\\System32\\svchost.exe",
              "C:\\Windows\\system32\\svchost.exe -k iissvcs", "NT AUTHORITY\\SYSTEM", SID_SYSTEM);
    return svchost;
}

static void scenario_basic(gen *g, unsigned long count, bool big)
{
    static const char *const images[][2] = {
        {"C:\\Windows\\System32\\svchost.exe",
         "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule"},
        {"C:\\Windows\\System32\\conhost.exe",
         "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1"},
        {"C:\\Windows\\System32\\cmd.exe",
         "cmd.exe /c \"echo %DATE% > C:\\inetpub\\logs\\heartbeat.txt\""},
        {"C:\\Windows\\System32\\inetsrv\\w3wp.exe",
         "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"DefaultAppPool\" -v \"v4.0\" -l "
         "\"webengine4.dll\" -a \\\\.\\pipe\\iisipm5c1a -h "
         "\"C:\\inetpub\\temp\\apppools\\DefaultAppPool\\DefaultAppPool.config\" -w \"\" -m 0"},
        {"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
         "powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\Scripts\\rotate-logs.ps1"},
        {"C:\\Windows\\System32\\inetsrv\\appcmd.exe",
         "C:\\Windows\\system32\\inetsrv\\appcmd.exe list site /text:name"},
        {"C:\\Program Files\\Microsoft Update Health Tools\\uhssvc.exe",
         "\"C:\\Program Files\\Microsoft Update Health Tools\\uhssvc.exe\""},
        {"C:\\Windows\\System32\\taskhostw.exe",
         "taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly"},
    };
    static const char *const services[][2] = {
        {"Microsoft Edge Update Service (edgeupdate)",
         "\"C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe\" /svc"},
        {"Windows Defender Advanced Threat Protection Service",
         "\"C:\\Program Files\\Windows Defender Advanced Threat Protection\\MsSense.exe\""},
        {"IIS Log Shipper",
         "C:\\Tools\\logship\\logship.exe --config C:\\Tools\\logship\\logship.yml"},
        {"Remote Registry Helper", "%SystemRoot%\\System32\\svchost.exe -k localService -p"},
    };
    proc services_p, svchost;
    const proc *parent = system_procs(g, &services_p, &svchost);
    char cmd[4096];
    for (unsigned long i = 0; i < count; i++) {
        tick(g, 200, 5000);
        unsigned k = (unsigned)(rnd(g) % (sizeof(images) / sizeof(images[0])));
        proc p;
        switch (i % 3) {
        case 0:
        case 1: {
            bool sys = k % 2 == 0;
            snprintf(cmd, sizeof(cmd), "%s #%lu", images[k][1], i + 1);
            proc_init(g, &p, parent, images[k][0], cmd,
                      sys ? "NT AUTHORITY\\SYSTEM" : "CONTOSO\\webadmin",
                      sys ? SID_SYSTEM : SID_ADMIN);
            if (i % 3 == 0)
                sysmon_proc(g, &p);
            else
                sec_4688(g, &p);
            break;
        }
        default: {
            unsigned s = (unsigned)(i / 3 % (sizeof(services) / sizeof(services[0])));
            snprintf(cmd, sizeof(cmd), "%s %lu", services[s][0], i + 1);
            scm_7045(g, cmd, services[s][1], s % 2 ? "auto start" : "demand start", "LocalSystem",
                     s % 2 ? SID_ADMIN : NULL);
            break;
        }
        }
        if (big && i % 97 == 50) {
            /* a large script block (5–12 KiB) now and then */
            static char large[16384];
            size_t len = 5000 + rnd(g) % 7000, at = 0;
            while (at < len)
                at += (size_t)snprintf(large + at, sizeof(large) - at,
                                       "Get-ChildItem IIS:\\Sites | Out-Null # %08x\n", rnd(g));
            tick(g, 10, 50);
            ps_4104(g, large, SID_ADMIN, 4412, false);
        }
    }
}

static void scenario_demo(gen *g)
{
    proc services_p, svchost, w3wp, cmd1, who, cmd2, ipc, cmd3, appcmd, ps, gac, cmd4, iisreset,
        explorer, admps, applist, msi, rwinst;
    system_procs(g, &services_p, &svchost);

    /* 09:00 — a normal morning: the app pool starts, an admin checks sites */
    tick(g, 1000, 2000);
    proc_init(g, &w3wp, &svchost, "C:\\Windows\\System32\\inetsrv\\w3wp.exe",
              "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"DefaultAppPool\" -v \"v4.0\" -l "
              "\"webengine4.dll\" -a \\\\.\\pipe\\iisipm7d2f0c51-0a43-4c8e-b1f4-2ab9c1a1a6d1 -h "
              "\"C:\\inetpub\\temp\\apppools\\DefaultAppPool\\DefaultAppPool.config\" -w \"\" -m 0",
              "IIS APPPOOL\\DefaultAppPool", SID_APPPOOL);
    w3wp.desc = "IIS Worker Process";
    w3wp.product = "Internet Information Services";
    w3wp.cwd = "C:\\Windows\\system32\\inetsrv\\";
    proc_start(g, &w3wp);
    tick(g, 200, 900);
    sysmon_load(g, &w3wp, "C:\\Windows\\System32\\inetsrv\\iiscore.dll", true);
    tick(g, 60000, 120000);
    proc_init(g, &explorer, NULL, "C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE",
              "CONTOSO\\webadmin", SID_ADMIN);
    proc_init(g, &admps, &explorer,
              "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
              "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\"",
              "CONTOSO\\webadmin", SID_ADMIN);
    admps.cwd = "C:\\Users\\webadmin\\";
    proc_start(g, &admps);
    tick(g, 3000, 9000);
    proc_init(g, &applist, &admps, "C:\\Windows\\System32\\inetsrv\\appcmd.exe",
              "\"C:\\Windows\\system32\\inetsrv\\appcmd.exe\" list apppool", "CONTOSO\\webadmin",
              SID_ADMIN);
    proc_start(g, &applist);
    tick(g, 2000, 4000);
    ps_4104(g, "Get-Website | Select-Object Name, State, PhysicalPath", SID_ADMIN, admps.pid,
            false);
    tick(g, 5000, 9000);
    scm_7045(g, "Microsoft Edge Update Service (edgeupdate)",
             "\"C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe\" /svc",
             "auto start", "LocalSystem", SID_SYSTEM);
    /* the admin installs URL Rewrite: msiexec registers a Microsoft module (low) */
    tick(g, 60000, 90000);
    proc_init(g, &msi, &services_p, "C:\\Windows\\System32\\msiexec.exe",
              "C:\\Windows\\system32\\msiexec.exe /V", "NT AUTHORITY\\SYSTEM", SID_SYSTEM);
    proc_init(g, &rwinst, &msi, "C:\\Windows\\System32\\inetsrv\\appcmd.exe",
              "\"C:\\Windows\\system32\\inetsrv\\appcmd.exe\" install module /name:RewriteModule "
              "/image:\"%SystemRoot%\\system32\\inetsrv\\rewrite.dll\"",
              "NT AUTHORITY\\SYSTEM", SID_SYSTEM);
    rwinst.orig = "appcmd.exe";
    proc_start(g, &rwinst);

    /* 11:40 — the web shell: w3wp.exe spawns cmd.exe for discovery */
    tick(g, 7200000, 7300000);
    proc_init(g, &cmd1, &w3wp, "C:\\Windows\\System32\\cmd.exe",
              "cmd.exe /c \"cd /d \"C:\\inetpub\\wwwroot\\\"&whoami\" 2>&1",
              "IIS APPPOOL\\DefaultAppPool", SID_APPPOOL);
    cmd1.cwd = "C:\\inetpub\\wwwroot\\";
    cmd1.desc = "Windows Command Processor";
    proc_start(g, &cmd1);
    tick(g, 20, 60);
    proc_init(g, &who, &cmd1, "C:\\Windows\\System32\\whoami.exe", "whoami",
              "IIS APPPOOL\\DefaultAppPool", SID_APPPOOL);
    proc_start(g, &who);
    tick(g, 20000, 40000);
    proc_init(g, &cmd2, &w3wp, "C:\\Windows\\System32\\cmd.exe",
              "cmd.exe /c \"cd /d \"C:\\inetpub\\wwwroot\\\"&ipconfig /all\" 2>&1",
              "IIS APPPOOL\\DefaultAppPool", SID_APPPOOL);
    cmd2.cwd = "C:\\inetpub\\wwwroot\\";
    sysmon_proc(g, &cmd2);
    tick(g, 20, 60);
    proc_init(g, &ipc, &cmd2, "C:\\Windows\\System32\\ipconfig.exe", "ipconfig  /all",
              "IIS APPPOOL\\DefaultAppPool", SID_APPPOOL);
    sysmon_proc(g, &ipc);

    /* the native module is dropped and installed with appcmd.exe */
    tick(g, 30000, 60000);
    sysmon_file(g, &w3wp, "C:\\Windows\\System32\\inetsrv\\iisproxy.dll");
    tick(g, 10000, 20000);
    proc_init(g, &cmd3, &w3wp, "C:\\Windows\\System32\\cmd.exe",
              "cmd.exe /c \"C:\\Windows\\System32\\inetsrv\\appcmd.exe install module "
              "/name:ProxyModule /image:C:\\Windows\\System32\\inetsrv\\iisproxy.dll\" 2>&1",
              "IIS APPPOOL\\DefaultAppPool", SID_APPPOOL);
    cmd3.cwd = "C:\\inetpub\\wwwroot\\";
    proc_start(g, &cmd3);
    tick(g, 20, 60);
    proc_init(g, &appcmd, &cmd3, "C:\\Windows\\System32\\inetsrv\\appcmd.exe",
              "C:\\Windows\\System32\\inetsrv\\appcmd.exe install module /name:ProxyModule "
              "/image:C:\\Windows\\System32\\inetsrv\\iisproxy.dll",
              "IIS APPPOOL\\DefaultAppPool", SID_APPPOOL);
    appcmd.desc = "Application Server Command Line Admin Tool";
    appcmd.product = "Internet Information Services";
    appcmd.orig = "appcmd.exe";
    proc_start(g, &appcmd);
    tick(g, 100, 300);
    sysmon_file(g, &appcmd, "C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config");
    tick(g, 5, 20);
    iis_29(g, appcmd.pid, "/system.webServer/globalModules/add[@name='ProxyModule']/@image", "",
           "C:\\Windows\\System32\\inetsrv\\iisproxy.dll");

    /* a managed module goes into the GAC */
    tick(g, 300000, 400000);
    static char enc[1024];
    encoded_command("powershell.exe -nop -w hidden -ep bypass -enc ",
                    "Import-Module WebAdministration; New-WebGlobalModule -Name 'IISHealthCheck' "
                    "-Image 'C:\\ProgramData\\Microsoft\\IIS\\IISHealthCheck.dll'",
                    enc, sizeof(enc));
    proc_init(g, &ps, &w3wp, "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", enc,
              "IIS APPPOOL\\DefaultAppPool", SID_APPPOOL);
    ps.cwd = "C:\\inetpub\\wwwroot\\";
    ps.desc = "Windows PowerShell";
    proc_start(g, &ps);
    tick(g, 800, 1500);
    ps_4104(g,
            "Import-Module WebAdministration; New-WebGlobalModule -Name 'IISHealthCheck' -Image "
            "'C:\\ProgramData\\Microsoft\\IIS\\IISHealthCheck.dll'",
            SID_APPPOOL, ps.pid, true);
    tick(g, 200, 600);
    sysmon_file(g, &ps, "C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config");
    tick(g, 5, 20);
    iis_29(g, ps.pid, "/system.webServer/globalModules/add[@name='IISHealthCheck']/@image", "",
           "C:\\ProgramData\\Microsoft\\IIS\\IISHealthCheck.dll");
    tick(g, 60000, 90000);
    proc_init(g, &gac, &ps,
              "C:\\Program Files (x86)\\Microsoft SDKs\\Windows\\v10.0A\\bin\\NETFX 4.8 "
              "Tools\\x64\\gacutil.exe",
              "\"C:\\Program Files (x86)\\Microsoft SDKs\\Windows\\v10.0A\\bin\\NETFX 4.8 "
              "Tools\\x64\\gacutil.exe\" /i C:\\Windows\\Temp\\SessionStateHelper.dll",
              "IIS APPPOOL\\DefaultAppPool", SID_APPPOOL);
    gac.desc = "Microsoft (R) .NET Global Assembly Cache Utility";
    gac.product = "Microsoft\xc2\xae .NET Framework";
    gac.orig = "gacutil.exe";
    proc_start(g, &gac);
    tick(g, 500, 900);
    sysmon_file(g, &gac,
                "C:\\Windows\\Microsoft.NET\\assembly\\GAC_MSIL\\SessionStateHelper\\"
                "v4.0_1.0.0.0__31bf3856ad364e35\\SessionStateHelper.dll");
    tick(g, 20000, 30000);
    ps_4104(g,
            "$m = 'SessionStateHelper.StateModule, SessionStateHelper, Version=1.0.0.0, "
            "Culture=neutral, PublicKeyToken=31bf3856ad364e35'; Add-WebConfigurationProperty "
            "-PSPath 'MACHINE/WEBROOT/APPHOST' -Filter 'system.webServer/modules' -Name '.' "
            "-Value @{name='SessionStateHelper'; type=$m}",
            SID_APPPOOL, ps.pid, true);
    tick(g, 200, 400);
    iis_29(g, ps.pid, "/system.webServer/modules/add[@name='SessionStateHelper']/@type", "",
           "SessionStateHelper.StateModule, SessionStateHelper, Version=1.0.0.0, "
           "Culture=neutral, PublicKeyToken=31bf3856ad364e35");

    /* the worker restarts and loads the new modules */
    tick(g, 30000, 60000);
    proc_init(g, &cmd4, &w3wp, "C:\\Windows\\System32\\cmd.exe",
              "cmd.exe /c \"iisreset /restart\" 2>&1", "IIS APPPOOL\\DefaultAppPool", SID_APPPOOL);
    sysmon_proc(g, &cmd4);
    tick(g, 20, 60);
    proc_init(g, &iisreset, &cmd4, "C:\\Windows\\System32\\iisreset.exe", "iisreset  /restart",
              "IIS APPPOOL\\DefaultAppPool", SID_APPPOOL);
    proc_start(g, &iisreset);
    tick(g, 8000, 12000);
    proc w3wp2;
    proc_init(g, &w3wp2, &svchost, w3wp.image, w3wp.cmdline, w3wp.user, w3wp.sid);
    w3wp2.desc = w3wp.desc;
    w3wp2.product = w3wp.product;
    w3wp2.cwd = w3wp.cwd;
    proc_start(g, &w3wp2);
    tick(g, 300, 600);
    sysmon_load(g, &w3wp2, "C:\\Windows\\System32\\inetsrv\\iiscore.dll", true);
    tick(g, 10, 40);
    sysmon_load(g, &w3wp2, "C:\\Windows\\System32\\inetsrv\\iisproxy.dll", false);
    tick(g, 10, 40);
    sysmon_load(g, &w3wp2, "C:\\ProgramData\\Microsoft\\IIS\\IISHealthCheck.dll", false);

    /* persistence as a service, too */
    tick(g, 120000, 180000);
    scm_7045(g, "IISHealthSvc", "C:\\ProgramData\\Microsoft\\IIS\\healthsvc.exe -k", "auto start",
             "LocalSystem", SID_APPPOOL);

    /* 20 minutes later the web shell edits applicationHost.config itself: a
     * module appears with no administration tool running */
    tick(g, 1200000, 1300000);
    sysmon_file(g, &w3wp2, "C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config");
    tick(g, 5, 20);
    iis_29(g, w3wp2.pid, "/system.webServer/globalModules/add[@name='WebDavLock']/@image", "",
           "C:\\Windows\\System32\\inetsrv\\davlock.dll");
}

/* ---- command line ---------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: igfix evtx OUT.evtx [--scenario basic|demo|big] [--count N] [--seed S]\n"
          "       igfix iis ROOT [--scenario clean|demo]\n"
          "       igfix dll OUT.dll EXPORT...\n"
          "                           [--manifest OUT.jsonl]\n"
          "       igfix evtx OUT.evtx --from-jsonl IN.jsonl\n"
          "  basic  N (default 100) Sysmon 1 / Security 4688 / System 7045 events\n"
          "  demo   an IIS module-installation compromise on host WEB01\n"
          "  big    N (default 3000) basic events plus large script blocks (many chunks)\n"
          "  --from-jsonl  flat JSON-lines events (Channel, EventID, Computer, TimeCreated,\n"
          "         Provider_Name and Data fields) written as records 1, 2, ...\n"
          "  iis    an IIS host tree (system drive root): the IIS 10 modules; demo plants a\n"
          "         native module, a site ISAPI filter and a managed module in bin/\n"
          "  dll    a minimal PE32+ DLL exporting the names given\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "iis") == 0) {
        bool demo = argc >= 5 && strcmp(argv[3], "--scenario") == 0 && strcmp(argv[4], "demo") == 0;
        if (argc > 3 && !demo && !(argc == 5 && strcmp(argv[4], "clean") == 0)) {
            usage(stderr);
            return 1;
        }
        if (igfix_iis(argv[2], demo) != 0) {
            fprintf(stderr, "igfix: %s: cannot write the IIS tree\n", argv[2]);
            return 1;
        }
        fprintf(stderr, "igfix: %s: IIS host (%s)\n", argv[2], demo ? "demo" : "clean");
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "dll") == 0) {
        const char *base = strrchr(argv[2], '/');
        if (igfix_write_dll(argv[2], base ? base + 1 : argv[2], (const char *const *)argv + 3,
                            (size_t)(argc - 3)) != 0) {
            fprintf(stderr, "igfix: %s: cannot write the DLL\n", argv[2]);
            return 1;
        }
        return 0;
    }
    if (argc < 3 || strcmp(argv[1], "evtx") != 0) {
        usage(stderr);
        return 1;
    }
    const char *out = argv[2], *scenario = "basic", *manifest = NULL, *from = NULL;
    uint64_t count = 0, seed = 1;
    bool have_count = false;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--scenario") == 0 && i + 1 < argc) {
            scenario = argv[++i];
        } else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            if (!ig_parse_u64(argv[++i], 10000000u, &count)) {
                fputs("igfix: --count wants a number up to 10000000\n", stderr);
                return 1;
            }
            have_count = true;
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            if (!ig_parse_u64(argv[++i], UINT32_MAX, &seed) || seed == 0) {
                fputs("igfix: --seed wants a number from 1 to 4294967295\n", stderr);
                return 1;
            }
        } else if (strcmp(argv[i], "--from-jsonl") == 0 && i + 1 < argc) {
            from = argv[++i];
        } else if (strcmp(argv[i], "--manifest") == 0 && i + 1 < argc) {
            manifest = argv[++i];
        } else {
            fprintf(stderr, "igfix: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 1;
        }
    }
    gen g;
    memset(&g, 0, sizeof(g));
    g.rng = (uint32_t)seed;
    g.next_pid = 1000;
    g.host = "WEB01.contoso.local";
    g.t = IGFIX_T0;
    bool basic = strcmp(scenario, "basic") == 0, big = strcmp(scenario, "big") == 0;
    if (!basic && !big && strcmp(scenario, "demo") != 0) {
        fprintf(stderr, "igfix: unknown scenario '%s'\n", scenario);
        return 1;
    }
    if (!have_count)
        count = big ? 3000 : 100;
    g.w = ig_evtx_writer_create();
    if (g.w == NULL) {
        fputs("igfix: out of memory\n", stderr);
        return 1;
    }
    if (manifest != NULL && (g.manifest = fopen(manifest, "w")) == NULL) {
        perror(manifest);
        ig_evtx_writer_destroy(g.w);
        return 1;
    }
    int rc = 0;
    if (from != NULL)
        rc = igfix_from_jsonl(g.w, from);
    else if (basic || big)
        scenario_basic(&g, (unsigned long)count, big);
    else {
        g.host = "WEB01";
        scenario_demo(&g);
    }
    if (g.manifest != NULL && fclose(g.manifest) != 0) {
        perror(manifest);
        rc = 1;
    }
    ig_err e = rc == 0 ? ig_evtx_writer_save(g.w, out) : IG_OK;
    if (rc != 0) {
        /* the reason is printed; nothing is written */
    } else if (e != IG_OK) {
        fprintf(stderr, "igfix: %s: %s\n", out, ig_strerror(e));
        rc = 1;
    } else if (g.errors) {
        fprintf(stderr, "igfix: %u events could not be written\n", g.errors);
        rc = 1;
    } else {
        fprintf(stderr, "igfix: %s: %llu records (%s)\n", out,
                (unsigned long long)ig_evtx_writer_count(g.w), from ? from : scenario);
    }
    ig_evtx_writer_destroy(g.w);
    return rc;
}
