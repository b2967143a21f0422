/* iisguard inspect FILE... [--format text|json]
 * iisguard scan DIR... [--all] [--format text|json] [--output FILE [--force]] [-q]
 *
 * inspect tells what each file is to IIS (from its exports) with its PE
 * details; scan walks folders and reports every IIS component it finds,
 * registered or not.  JSON output is one object per file per line. */
#define _DEFAULT_SOURCE /* gmtime_r, O_CLOEXEC */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/forwarders.h"
#include "core/buf.h"
#include "iisguard/pe.h"
#include "iisguard/yara.h"
#include "output/alerts.h"

#define MAX_FILE (1ull << 31) /* larger files are reported, not read */

typedef struct opts {
    bool json, all, quiet;
    FILE *out;
    ig_trust *trust;
    ig_catalogs *cats;
    ig_yara *yara;
    fwd_index *files; /* where forwarders are followed */
} opts;

/* The user's YARA rules that matched one file. */
typedef struct yhits {
    char names[4096];
    size_t len;
    int n;
    int failed;
} yhits;

static void on_yara(void *ud, const char *ns, const char *rule)
{
    yhits *h = ud;
    int w = snprintf(h->names + h->len, sizeof(h->names) - h->len, "%s%s%s%s", h->len ? "\n" : "",
                     strcmp(ns, "default") ? ns : "", strcmp(ns, "default") ? ":" : "", rule);
    if (w > 0 && (size_t)w < sizeof(h->names) - h->len)
        h->len += (size_t)w;
    h->n++;
}

/* The verdict on a file's signature: its own, or a catalog's. */
typedef struct verdict {
    ig_sig_status status;
    const char *why, *signer;
    int64_t signing_time;
    int catalog_hit;
    ig_catalog_hit cat;
} verdict;

typedef struct stats {
    unsigned files, pe, unreadable, by_class[8];
    unsigned suspect; /* DLLs with IIS entry points IIS cannot use */
    unsigned yara;    /* files the user's YARA rules matched */
} stats;

/* ---- output ------------------------------------------------------------------- */

static void jstr(ig_buf *b, const char *s)
{
    if (s == NULL)
        ig_buf_lit(b, "null");
    else
        out_json_str(b, s, strlen(s));
}

static const char *machine_name(uint16_t m)
{
    switch (m) {
    case 0x14c: return "x86";
    case 0x8664: return "x64";
    case 0xaa64: return "arm64";
    case 0x1c4: return "arm";
    case 0x200: return "ia64";
    default: return "other";
    }
}

static void iso_time(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, n, "%lld", (long long)t);
}

static void json_file(ig_buf *b, const char *path, const ig_pe *p, const ig_signatures *sig,
                      const verdict *v, const yhits *yh, const fwd_index *files, const char *sha)
{
    fwd_entry fw[8];
    size_t nfw = p->cls != IG_PE_NOT_PE ? fwd_entry_points(files, p, fw, 8) : 0;
    char ts[40];
    ig_buf_lit(b, "{\"path\":");
    jstr(b, path);
    ig_buf_lit(b, ",\"size\":");
    ig_buf_u64(b, p->size);
    ig_buf_lit(b, ",\"sha256\":");
    jstr(b, sha);
    ig_buf_lit(b, ",\"classification\":");
    jstr(b, ig_pe_class_name(p->cls));
    ig_buf_lit(b, ",\"why\":");
    jstr(b, p->why);
    if (p->cls != IG_PE_NOT_PE) {
        iso_time(p->timestamp, ts, sizeof(ts));
        ig_buf_lit(b, ",\"machine\":");
        jstr(b, machine_name(p->machine));
        ig_buf_lit(b, ",\"pe32plus\":");
        ig_buf_puts(b, p->pe32plus ? "true" : "false");
        ig_buf_lit(b, ",\"dll\":");
        ig_buf_puts(b, (p->characteristics & 0x2000) ? "true" : "false");
        ig_buf_lit(b, ",\"iis_suspect\":");
        ig_buf_puts(b, p->iis_suspect ? "true" : "false");
        ig_buf_lit(b, ",\"dotnet\":");
        ig_buf_puts(b, p->clr ? "true" : "false");
        ig_buf_lit(b, ",\"timestamp\":");
        jstr(b, ts);
        if (p->clr) {
            ig_buf_lit(b, ",\"dotnet_runtime\":");
            jstr(b, p->clr_version);
            ig_buf_lit(b, ",\"assembly\":");
            jstr(b, p->assembly_name);
            ig_buf_lit(b, ",\"managed_types\":[");
            for (size_t i = 0; i < p->nmanaged; i++) {
                const ig_pe_managed *t = &p->managed[i];
                ig_buf_lit(b, "{\"type\":");
                jstr(b, t->type);
                ig_buf_lit(b, ",\"implements\":");
                jstr(b, t->iface);
                ig_buf_lit(b, ",\"via\":");
                jstr(b, t->via);
                ig_buf_lit(b, ",\"abstract\":");
                ig_buf_puts(b, t->abstract ? "true" : "false");
                ig_buf_puts(b, i + 1 < p->nmanaged ? "}," : "}");
            }
            ig_buf_putc(b, ']');
        }
        ig_buf_lit(b, ",\"export_dll_name\":");
        jstr(b, p->export_dll_name);
        ig_buf_lit(b, ",\"exports\":[");
        for (size_t i = 0; i < p->nexports; i++) {
            const ig_pe_export *e = &p->exports[i];
            ig_buf_lit(b, "{\"name\":");
            jstr(b, e->name);
            ig_buf_lit(b, ",\"ordinal\":");
            ig_buf_u64(b, e->ordinal);
            ig_buf_lit(b, ",\"forwarder\":");
            jstr(b, e->forwarder);
            if (e->forwarder != NULL) {
                ig_buf_lit(b, ",\"forwarder_file\":");
                jstr(b, fwd_file(files, e->forwarder));
            }
            ig_buf_puts(b, i + 1 < p->nexports ? "}," : "}");
        }
        ig_buf_lit(b, "],\"imports\":[");
        for (size_t i = 0; i < p->nimports; i++) {
            const ig_pe_import *im = &p->imports[i];
            ig_buf_lit(b, "{\"dll\":");
            jstr(b, im->dll);
            ig_buf_lit(b, ",\"name\":");
            jstr(b, im->name);
            if (im->name == NULL) {
                ig_buf_lit(b, ",\"ordinal\":");
                ig_buf_u64(b, im->ordinal);
            }
            ig_buf_puts(b, i + 1 < p->nimports ? "}," : "}");
        }
        ig_buf_lit(b, "],\"imphash\":");
        jstr(b, p->imphash[0] ? p->imphash : NULL);
        ig_buf_lit(b, ",\"version\":{");
        for (size_t i = 0; i < p->nversion; i++) {
            jstr(b, p->version[i].key);
            ig_buf_putc(b, ':');
            jstr(b, p->version[i].value);
            if (i + 1 < p->nversion)
                ig_buf_putc(b, ',');
        }
        ig_buf_lit(b, "},\"pdb_path\":");
        jstr(b, p->pdb_path);
        ig_buf_lit(b, ",\"sections\":[");
        for (size_t i = 0; i < p->nsections; i++) {
            const ig_pe_section *s = &p->sections[i];
            char ent[16];
            snprintf(ent, sizeof(ent), "%.3f", s->entropy);
            ig_buf_lit(b, "{\"name\":");
            jstr(b, s->name);
            ig_buf_lit(b, ",\"vaddr\":");
            ig_buf_u64(b, s->vaddr);
            ig_buf_lit(b, ",\"vsize\":");
            ig_buf_u64(b, s->vsize);
            ig_buf_lit(b, ",\"raw_offset\":");
            ig_buf_u64(b, s->raw_offset);
            ig_buf_lit(b, ",\"raw_size\":");
            ig_buf_u64(b, s->raw_size);
            ig_buf_lit(b, ",\"entropy\":");
            ig_buf_puts(b, ent);
            ig_buf_puts(b, i + 1 < p->nsections ? "}," : "}");
        }
        ig_buf_lit(b, "],\"overlay\":{\"offset\":");
        ig_buf_u64(b, p->overlay_offset);
        ig_buf_lit(b, ",\"size\":");
        ig_buf_u64(b, p->overlay_size);
        ig_buf_lit(b, "},\"evidence\":[");
        for (size_t i = 0; i < p->nevidence; i++) {
            jstr(b, p->evidence[i]);
            if (i + 1 < p->nevidence)
                ig_buf_putc(b, ',');
        }
        ig_buf_putc(b, ']');
    }
    ig_buf_lit(b, ",\"forwarded_entry_points\":[");
    for (size_t i = 0; i < nfw; i++) {
        ig_buf_lit(b, "{\"export\":");
        jstr(b, fw[i].name);
        ig_buf_lit(b, ",\"to\":");
        jstr(b, fw[i].to);
        ig_buf_lit(b, ",\"file\":");
        jstr(b, fw[i].file);
        ig_buf_lit(b, ",\"exported_there\":");
        ig_buf_puts(b, fw[i].exported ? "true" : "false");
        ig_buf_lit(b, ",\"file_classification\":");
        jstr(b, fw[i].cls);
        ig_buf_puts(b, i + 1 < nfw ? "}," : "}");
    }
    ig_buf_putc(b, ']');
    ig_buf_lit(b, ",\"yara\":[");
    for (const char *q = yh->names; yh->n && *q;) {
        const char *nl = strchr(q, '\n');
        size_t k = nl ? (size_t)(nl - q) : strlen(q);
        out_json_str(b, q, k);
        q += k + (nl != NULL);
        if (*q)
            ig_buf_putc(b, ',');
    }
    ig_buf_putc(b, ']');
    ig_buf_lit(b, ",\"anomalies\":[");
    for (size_t i = 0; i < p->nanomalies; i++) {
        ig_buf_lit(b, "{\"offset\":");
        ig_buf_u64(b, p->anomalies[i].offset);
        ig_buf_lit(b, ",\"what\":");
        jstr(b, p->anomalies[i].what);
        ig_buf_puts(b, i + 1 < p->nanomalies ? "}," : "}");
    }
    ig_buf_lit(b, "],\"signature\":{\"status\":");
    jstr(b, p->cls == IG_PE_NOT_PE ? "not_pe" : ig_sig_status_name(v->status));
    ig_buf_lit(b, ",\"signer\":");
    jstr(b, v->signer);
    ig_buf_lit(b, ",\"signing_time\":");
    if (v->signing_time) {
        char st[40];
        iso_time(v->signing_time, st, sizeof(st));
        jstr(b, st);
    } else {
        ig_buf_lit(b, "null");
    }
    ig_buf_lit(b, ",\"why\":");
    jstr(b, v->why);
    if (v->catalog_hit) {
        ig_buf_lit(b, ",\"catalog\":{\"path\":");
        jstr(b, v->cat.catalog);
        ig_buf_lit(b, ",\"status\":");
        jstr(b, ig_sig_status_name(v->cat.status));
        ig_buf_lit(b, ",\"signer\":");
        jstr(b, v->cat.signer);
        ig_buf_putc(b, '}');
    }
    if (p->cert_size) {
        ig_buf_lit(b, ",\"certificate_table\":{\"offset\":");
        ig_buf_u64(b, p->cert_offset);
        ig_buf_lit(b, ",\"size\":");
        ig_buf_u64(b, p->cert_size);
        ig_buf_putc(b, '}');
    }
    ig_buf_lit(b, ",\"signatures\":[");
    for (size_t i = 0; sig && i < sig->n; i++) {
        const ig_signature *g = &sig->v[i];
        char gt[40] = "";
        if (g->signing_time)
            iso_time(g->signing_time, gt, sizeof(gt));
        ig_buf_lit(b, "{\"status\":");
        jstr(b, ig_sig_status_name(g->status));
        ig_buf_lit(b, ",\"entry\":");
        ig_buf_u64(b, g->entry);
        ig_buf_lit(b, ",\"nested\":");
        ig_buf_u64(b, g->depth);
        ig_buf_lit(b, ",\"offset\":");
        ig_buf_u64(b, g->offset);
        ig_buf_lit(b, ",\"digest\":");
        jstr(b, g->digest);
        ig_buf_lit(b, ",\"signer\":");
        jstr(b, g->signer);
        ig_buf_lit(b, ",\"issuer\":");
        jstr(b, g->issuer);
        ig_buf_lit(b, ",\"signing_time\":");
        jstr(b, g->signing_time ? gt : NULL);
        ig_buf_lit(b, ",\"timestamp\":");
        jstr(b, g->timestamp);
        if (g->timestamp) {
            ig_buf_lit(b, ",\"timestamp_verified\":");
            ig_buf_puts(b, g->timestamp_ok ? "true" : "false");
            ig_buf_lit(b, ",\"timestamp_problem\":");
            jstr(b, g->timestamp_why);
        }
        ig_buf_lit(b, ",\"why\":");
        jstr(b, g->why);
        ig_buf_puts(b, i + 1 < sig->n ? "}," : "}");
    }
    ig_buf_putc(b, ']');
    ig_buf_lit(b, "}}\n");
}

static void text_file(FILE *f, const char *path, const ig_pe *p, const ig_signatures *sig,
                      const verdict *v, const yhits *yh, const fwd_index *files, const char *sha)
{
    fwd_entry fw[8];
    size_t nfw = p->cls != IG_PE_NOT_PE ? fwd_entry_points(files, p, fw, 8) : 0;
    fprintf(f, "%s\n  class       %s (%s)\n  sha256      %s\n  size        %llu\n", path,
            ig_pe_class_name(p->cls), p->why ? p->why : "", sha, (unsigned long long)p->size);
    if (p->cls != IG_PE_NOT_PE) {
        char ts[40] = "time not set";
        if (p->timestamp)
            iso_time(p->timestamp, ts, sizeof(ts));
        fprintf(f, "  image       %s %s%s%s, linked %s\n", machine_name(p->machine),
                p->pe32plus ? "PE32+" : "PE32", (p->characteristics & 0x2000) ? " DLL" : "",
                p->clr ? " .NET" : "", ts);
        if (p->clr)
            fprintf(f, "  .NET        assembly %s, runtime %s\n",
                    p->assembly_name ? p->assembly_name : "?",
                    p->clr_version ? p->clr_version : "?");
        for (size_t i = 0; i < p->nmanaged; i++)
            fprintf(f, "  type        %s implements System.Web.%s%s%s%s\n", p->managed[i].type,
                    p->managed[i].iface, p->managed[i].via ? " (through " : "",
                    p->managed[i].via ? p->managed[i].via : "", p->managed[i].via ? ")" : "");
        fprintf(f, "  exports     %zu%s%s\n", p->nexports, p->export_dll_name ? " as " : "",
                p->export_dll_name ? p->export_dll_name : "");
        for (size_t i = 0; i < p->nexports && i < 50; i++)
            fprintf(f, "              %5u  %s%s%s\n", p->exports[i].ordinal,
                    p->exports[i].name ? p->exports[i].name : "(by ordinal)",
                    p->exports[i].forwarder ? " -> " : "",
                    p->exports[i].forwarder ? p->exports[i].forwarder : "");
        if (p->nexports > 50)
            fprintf(f, "              ... %zu more\n", p->nexports - 50);
        fprintf(f, "  imports     %zu%s%s\n", p->nimports, p->imphash[0] ? ", imphash " : "",
                p->imphash);
        for (size_t i = 0; i < p->nversion; i++)
            fprintf(f, "  version     %s: %s\n", p->version[i].key, p->version[i].value);
        if (p->pdb_path)
            fprintf(f, "  pdb         %s\n", p->pdb_path);
        for (size_t i = 0; i < p->nsections; i++)
            fprintf(f, "  section     %-8s rva 0x%08x raw %8u entropy %.2f\n", p->sections[i].name,
                    p->sections[i].vaddr, p->sections[i].raw_size, p->sections[i].entropy);
        if (p->overlay_size)
            fprintf(f, "  overlay     %llu bytes at 0x%llx\n", (unsigned long long)p->overlay_size,
                    (unsigned long long)p->overlay_offset);
        for (size_t i = 0; i < p->nevidence; i++)
            fprintf(f, "  evidence    %s\n", p->evidence[i]);
        fprintf(f, "  signature   %s%s%s\n", ig_sig_status_name(v->status), v->why ? ": " : "",
                v->why ? v->why : "");
        if (v->catalog_hit)
            fprintf(f, "              listed in %s (%s), signed by %s\n", v->cat.catalog,
                    ig_sig_status_name(v->cat.status), v->cat.signer ? v->cat.signer : "?");
        for (size_t i = 0; i < sig->n; i++) {
            const ig_signature *g = &sig->v[i];
            char gt[40] = "-";
            if (g->signing_time)
                iso_time(g->signing_time, gt, sizeof(gt));
            fprintf(f, "              entry %u%s: %s, %s, signed %s%s%s, by %s\n", g->entry,
                    g->depth ? " (nested)" : "", ig_sig_status_name(g->status),
                    g->digest ? g->digest : "?", gt, g->timestamp ? " by " : "",
                    g->timestamp ? g->timestamp : "", g->signer ? g->signer : "?");
        }
    }
    for (size_t i = 0; i < nfw; i++)
        fprintf(f, "  forwarded   %s -> %s: %s%s%s%s\n", fw[i].name, fw[i].to,
                fw[i].file ? fw[i].file : "not among the files read", fw[i].file ? " (" : "",
                fw[i].file ? (fw[i].cls ? fw[i].cls : "unreadable") : "",
                fw[i].file ? (fw[i].exported ? ", exports it)" : ", does not export it)") : "");
    for (const char *q = yh->names; yh->n && *q;) {
        const char *nl = strchr(q, '\n');
        int k = nl ? (int)(nl - q) : (int)strlen(q);
        fprintf(f, "  yara        %.*s\n", k, q);
        q += k + (nl != NULL);
    }
    for (size_t i = 0; i < p->nanomalies; i++)
        fprintf(f, "  anomaly     offset 0x%llx: %s\n", (unsigned long long)p->anomalies[i].offset,
                p->anomalies[i].what);
}

/* True when the version resource names Microsoft as the maker. */
static bool microsoft_file(const ig_pe *p)
{
    for (size_t i = 0; i < p->nversion; i++)
        if (strcmp(p->version[i].key, "CompanyName") == 0 &&
            strstr(p->version[i].value, "Microsoft") != NULL)
            return true;
    return false;
}

/* The file's own signature decides unless it is not trusted and a catalog
 * lists the file; without --catroot, an unsigned Microsoft file cannot be
 * judged (Windows signs most of its files through catalogs). */
static void judge(verdict *v, const opts *o, const ig_pe *p, const ig_signatures *sig,
                  const uint8_t *d, size_t len)
{
    const ig_signature *first = sig->n ? &sig->v[0] : NULL;
    v->status = sig->status;
    v->why = sig->why;
    v->signer = first ? first->signer : NULL;
    v->signing_time = first ? first->signing_time : 0;
    if (p->cls == IG_PE_NOT_PE || v->status == IG_SIG_TRUSTED)
        return;
    if (o->cats != NULL && ig_catalogs_lookup(o->cats, d, len, p, &v->cat)) {
        v->catalog_hit = 1;
        if (v->cat.status == IG_SIG_CATALOG || v->status == IG_SIG_UNSIGNED) {
            v->status = v->cat.status;
            v->why = v->cat.why;
            v->signer = v->cat.signer;
            v->signing_time = v->cat.signing_time;
        }
    } else if (o->cats == NULL && v->status == IG_SIG_UNSIGNED && microsoft_file(p)) {
        v->status = IG_SIG_NOT_VERIFIABLE;
        v->why = "no embedded signature, and Microsoft signs its files through catalogs: give "
                 "--catroot (Windows/System32/CatRoot)";
    }
}

/* ---- files ---------------------------------------------------------------------- */

/* Maps and analyses one file; false when it cannot be read (reported). */
static bool one_file(const char *path, const opts *o, stats *st, bool scan)
{
    st->files++;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
        (unsigned long long)sb.st_size > MAX_FILE) {
        fprintf(stderr, "iisguard: %s: offset 0x0: %s\n", path,
                fd < 0                 ? strerror(errno)
                : !S_ISREG(sb.st_mode) ? "not a regular file"
                                       : "larger than 2 GiB; not read");
        if (fd >= 0)
            close(fd);
        st->unreadable++;
        return false;
    }
    size_t len = (size_t)sb.st_size;
    const uint8_t *d = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : (const uint8_t *)"";
    close(fd);
    if (d == MAP_FAILED) {
        fprintf(stderr, "iisguard: %s: offset 0x0: %s\n", path, strerror(errno));
        st->unreadable++;
        return false;
    }
    /* scan: only files that start like a PE image */
    if (scan && !o->all && (len < 2 || d[0] != 'M' || d[1] != 'Z')) {
        if (len)
            munmap((void *)d, len);
        return true;
    }
    ig_pe *p = ig_pe_parse(d, len);
    yhits yh;
    memset(&yh, 0, sizeof(yh));
    if (o->yara != NULL && p != NULL && ig_yara_scan(o->yara, d, len, on_yara, &yh) < 0) {
        yh.failed = 1;
        fprintf(stderr, "iisguard: %s: YARA scan failed (time limit or memory)\n", path);
    }
    ig_signatures *sig = NULL;
    verdict v;
    memset(&v, 0, sizeof(v));
    char sha[65] = "";
    bool show = p != NULL &&
                (!scan || o->all || p->cls >= IG_PE_ISAPI_EXTENSION || p->iis_suspect || yh.n > 0);
    if (show) {
        ig_pe_entropy(p, d, len);
        ig_sha256_hex(d, len, sha);
        sig = ig_pe_verify(d, len, p, o->trust);
        if (sig != NULL)
            judge(&v, o, p, sig, d, len);
    }
    if (len)
        munmap((void *)d, len);
    if (p == NULL || (show && sig == NULL)) {
        ig_pe_free(p);
        fprintf(stderr, "iisguard: %s: out of memory\n", path);
        st->unreadable++;
        return false;
    }
    st->pe += p->cls != IG_PE_NOT_PE;
    st->by_class[p->cls < 8 ? p->cls : 0]++;
    st->suspect += p->iis_suspect && p->cls < IG_PE_ISAPI_EXTENSION;
    st->yara += yh.n > 0;
    if (show) {
        if (o->json) {
            ig_buf b;
            ig_buf_init(&b, 256u << 20);
            json_file(&b, path, p, sig, &v, &yh, o->files, sha);
            if (!b.failed)
                fwrite(b.data, 1, b.len, o->out);
            ig_buf_free(&b);
        } else if (scan) {
            fprintf(o->out, "%-16s %s  (%s; %zu anomal%s)\n", ig_pe_class_name(p->cls), path,
                    p->why, p->nanomalies, p->nanomalies == 1 ? "y" : "ies");
            for (const char *q = yh.names; yh.n && *q;) {
                const char *nl = strchr(q, '\n');
                int k = nl ? (int)(nl - q) : (int)strlen(q);
                fprintf(o->out, "                   yara: %.*s\n", k, q);
                q += k + (nl != NULL);
            }
            for (size_t i = 0; i < p->nanomalies; i++)
                fprintf(o->out, "                   offset 0x%llx: %s\n",
                        (unsigned long long)p->anomalies[i].offset, p->anomalies[i].what);
        } else {
            text_file(o->out, path, p, sig, &v, &yh, o->files, sha);
        }
    }
    ig_signatures_free(sig);
    ig_pe_free(p);
    return true;
}

static void yara_error(void *ud, const char *file, int line, const char *what)
{
    (void)ud;
    fprintf(stderr, "iisguard: %s:%d: %s\n", file, line, what);
}

static void cat_error(void *ud, const char *path, uint64_t off, const char *what)
{
    (void)ud;
    fprintf(stderr, "iisguard: %s: offset 0x%llx: %s; catalog left out\n", path,
            (unsigned long long)off, what);
}

static int run(int argc, char **argv, bool scan)
{
    const char *cmd = scan ? "scan" : "inspect";
    opts o = {false, false, false, stdout, NULL, NULL, NULL, NULL};
    const char *outp = NULL, *trust = NULL, *catroot = NULL, *yara = NULL;
    bool force = false;
    int nin = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--format") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            if (strcmp(f, "json") != 0 && strcmp(f, "text") != 0) {
                fprintf(stderr, "iisguard %s: unknown format '%s' (text or json)\n", cmd, f);
                return 2;
            }
            o.json = strcmp(f, "json") == 0;
        } else if (strcmp(a, "--all") == 0 && scan) {
            o.all = true;
        } else if (strcmp(a, "--output") == 0 && i + 1 < argc) {
            outp = argv[++i];
        } else if (strcmp(a, "--yara") == 0 && i + 1 < argc) {
            yara = argv[++i];
        } else if (strcmp(a, "--catroot") == 0 && i + 1 < argc) {
            catroot = argv[++i];
        } else if (strcmp(a, "--trust") == 0 && i + 1 < argc) {
            trust = argv[++i];
        } else if (strcmp(a, "--force") == 0) {
            force = true;
        } else if (strcmp(a, "-q") == 0) {
            o.quiet = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf(
                "usage: iisguard inspect FILE... [--format text|json] [--output FILE [--force]]\n"
                "       iisguard scan DIR... [--all] [--format text|json] [--output FILE "
                "[--force]] [-q]\n"
                "  inspect  what each file is to IIS (ISAPI extension or filter, native module,\n"
                "           DLL) from its exports, with its PE details and anomalies.\n"
                "  scan     every IIS component under the folders, found by content; --all\n"
                "           lists every file.  Exit 0 none found, 1 some, 2 errors.\n");
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "iisguard %s: unknown option '%s'\n", cmd, a);
            return 2;
        } else {
            argv[1 + nin++] = argv[i];
        }
    }
    if (nin == 0) {
        fprintf(stderr, "usage: iisguard %s %s... [--format text|json]\n", cmd,
                scan ? "DIR" : "FILE");
        return 2;
    }
    char terr[512];
    if ((o.trust = ig_trust_load(trust, terr, sizeof(terr))) == NULL) {
        fprintf(stderr, "iisguard %s: --trust %s\n", cmd, terr);
        return 2;
    }
    if (yara != NULL && (o.yara = ig_yara_load(yara, yara_error, NULL)) == NULL) {
        fprintf(stderr, "iisguard %s: --yara %s: the rules do not compile\n", cmd, yara);
        ig_trust_free(o.trust);
        return 2;
    }
    if (catroot != NULL) {
        o.cats = ig_catalogs_load(catroot, o.trust, cat_error, NULL);
        if (o.cats == NULL) {
            ig_yara_free(o.yara);
            ig_trust_free(o.trust);
            return 2;
        }
        if (!o.quiet)
            fprintf(stderr, "iisguard: %s: %zu catalogs, %zu member digests in %s\n", cmd,
                    ig_catalogs_count(o.cats), ig_catalogs_members(o.cats), catroot);
    }
    if (outp != NULL && (o.out = cli_open_output(outp, force, cmd)) == NULL) {
        ig_yara_free(o.yara);
        ig_catalogs_free(o.cats);
        ig_trust_free(o.trust);
        return 2;
    }
    stats st;
    memset(&st, 0, sizeof(st));
    char **paths = NULL;
    unsigned errors = 0;
    long n = cli_collect(argv + 1, nin, NULL, &paths, &errors);
    if (n < 0) {
        fprintf(stderr, "iisguard %s: out of memory\n", cmd);
        return 2;
    }
    st.unreadable += errors;
    /* forwarders are followed among the files read (and, for inspect, their
     * folders' other files) */
    o.files = fwd_index_build(paths, n, !scan);
    for (long i = 0; i < n; i++)
        one_file(paths[i], &o, &st, scan);
    fwd_index_free(o.files);
    cli_free_paths(paths, n);
    unsigned comps = st.by_class[IG_PE_ISAPI_EXTENSION] + st.by_class[IG_PE_ISAPI_FILTER] +
                     st.by_class[IG_PE_NATIVE_MODULE] + st.by_class[IG_PE_MANAGED_MODULE] +
                     st.by_class[IG_PE_MANAGED_HANDLER];
    if (!o.quiet)
        fprintf(stderr,
                "iisguard: %s: %u files (%u unreadable), %u PE images; IIS components: %u "
                "(native modules %u, ISAPI filters %u, ISAPI extensions %u, managed modules %u, "
                "managed handlers %u); %u DLLs with IIS entry points IIS cannot use; %u "
                "matched by YARA rules\n",
                cmd, st.files, st.unreadable, st.pe, comps, st.by_class[IG_PE_NATIVE_MODULE],
                st.by_class[IG_PE_ISAPI_FILTER], st.by_class[IG_PE_ISAPI_EXTENSION],
                st.by_class[IG_PE_MANAGED_MODULE], st.by_class[IG_PE_MANAGED_HANDLER], st.suspect,
                st.yara);
    ig_yara_free(o.yara);
    ig_catalogs_free(o.cats);
    ig_trust_free(o.trust);
    if (o.out != stdout && fclose(o.out) != 0)
        return 2;
    if (st.unreadable)
        return 2;
    return scan ? (comps + st.suspect + st.yara ? 1 : 0) : 0;
}

int cmd_inspect(int argc, char **argv)
{
    return run(argc, argv, false);
}

int cmd_scan(int argc, char **argv)
{
    return run(argc, argv, true);
}
