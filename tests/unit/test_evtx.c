/* EVTX reader on hand-assembled images: template instances (inline and by
 * offset) with every common value type, template-less records (element
 * starts without dependency id), and damage: not EVTX, bad chunk signature,
 * CRC mismatches, size/copy mismatch, truncated Binary XML. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "iisguard/evtx.h"
#include "test.h"

/* ---- a tiny byte assembler ------------------------------------------ */
typedef struct asm_ {
    uint8_t b[65536];
    uint32_t n;
} asm_;

static void u8(asm_ *a, uint32_t v)
{
    a->b[a->n++] = (uint8_t)v;
}
static void u16(asm_ *a, uint32_t v)
{
    u8(a, v & 0xff), u8(a, v >> 8);
}
static void u32(asm_ *a, uint32_t v)
{
    u16(a, v & 0xffff), u16(a, v >> 16);
}
static void u64(asm_ *a, uint64_t v)
{
    u32(a, (uint32_t)v), u32(a, (uint32_t)(v >> 32));
}
static void put32(asm_ *a, uint32_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        a->b[at + (uint32_t)i] = (uint8_t)(v >> (8 * i));
}
static void utf16(asm_ *a, const char *s)
{
    while (*s)
        u16(a, (uint8_t)*s++);
}
/* inline name: offset == here, then next(4) hash(2) n(2) chars NUL */
static void name(asm_ *a, const char *s)
{
    u32(a, a->n + 4);
    u32(a, 0);
    u16(a, 0);
    u16(a, (uint32_t)strlen(s));
    utf16(a, s);
    u16(a, 0);
}
static void open_el(asm_ *a, const char *s, int attrs, int dep)
{
    u8(a, attrs ? 0x41 : 0x01);
    if (dep)
        u16(a, 0xffff);
    u32(a, 0); /* data size: not used by the reader */
    name(a, s);
    if (attrs)
        u32(a, 0);
}
static void text(asm_ *a, const char *s)
{
    u8(a, 0x05);
    u8(a, 0x01);
    u16(a, (uint32_t)strlen(s));
    utf16(a, s);
}
static void subst(asm_ *a, uint32_t id, uint32_t type, int optional)
{
    u8(a, optional ? 0x0e : 0x0d);
    u16(a, id);
    u8(a, type);
}

/* ---- image: header + chunks ------------------------------------------- */
typedef struct image {
    uint8_t *p;
    size_t len;
} image;

static asm_ chunk_asm;
static uint64_t next_rid;

static void chunk_begin(void)
{
    asm_ *c = &chunk_asm;
    memset(c, 0, sizeof(*c));
    memcpy(c->b, "ElfChnk", 8);
    put32(c, 40, 128);
    c->n = 512;
}

/* Starts a record; returns its offset.  Body follows, then record_end. */
static uint32_t record_begin(void)
{
    asm_ *c = &chunk_asm;
    uint32_t at = c->n;
    u32(c, 0x00002a2a);
    u32(c, 0); /* size, patched */
    u64(c, ++next_rid);
    u64(c, 132000000000000000ull); /* 2019-04-17 */
    return at;
}

static void record_end(uint32_t at)
{
    asm_ *c = &chunk_asm;
    uint32_t size = c->n - at + 4;
    put32(c, at + 4, size);
    u32(c, size);
}

static void chunk_finish(void)
{
    asm_ *c = &chunk_asm;
    put32(c, 48, c->n);                                       /* free space */
    put32(c, 52, (uint32_t)crc32(0, c->b + 512, c->n - 512)); /* records CRC */
    uint32_t h = (uint32_t)crc32(0, c->b, 120);
    put32(c, 124, (uint32_t)crc32(h, c->b + 128, 384));
}

static void image_add_chunk(image *im)
{
    im->p = realloc(im->p, im->len + 65536);
    memcpy(im->p + im->len, chunk_asm.b, 65536);
    im->len += 65536;
}

static void image_init(image *im)
{
    im->len = 4096;
    im->p = calloc(1, 4096);
    memcpy(im->p, "ElfFile", 8);
    im->p[32] = 128;
    im->p[36] = 1; /* minor */
    im->p[38] = 3; /* major */
    im->p[40] = 0x00, im->p[41] = 0x10;
    uint32_t crc = (uint32_t)crc32(0, im->p, 120);
    for (int i = 0; i < 4; i++)
        im->p[124 + i] = (uint8_t)(crc >> (8 * i));
}

/* ---- running the reader --------------------------------------------- */
typedef struct result {
    char out[65536];
    size_t len;
    char anomalies[8192];
    size_t alen;
    ig_evtx_stats st;
    ig_err err;
} result;

static int on_out(void *ud, const char *p, size_t n)
{
    result *r = ud;
    if (r->len + n < sizeof(r->out)) {
        memcpy(r->out + r->len, p, n);
        r->len += n;
        r->out[r->len] = '\0';
    }
    return 0;
}

static void on_anom(void *ud, const ig_evtx_anomaly *a)
{
    result *r = ud;
    int n = snprintf(r->anomalies + r->alen, sizeof(r->anomalies) - r->alen, "%lld@%llu:%s\n",
                     (long long)a->chunk, (unsigned long long)a->offset, a->what);
    if (n > 0 && r->alen + (size_t)n < sizeof(r->anomalies))
        r->alen += (size_t)n;
}

static result *run(const uint8_t *p, size_t len, ig_evtx_format fmt, unsigned threads)
{
    static result r;
    memset(&r, 0, sizeof(r));
    ig_evtx_opts o = {.format = fmt,
                      .threads = threads,
                      .output = on_out,
                      .output_ud = &r,
                      .anomaly = on_anom,
                      .anomaly_ud = &r};
    ig_evtx_dumper *d = ig_evtx_dumper_create(&o);
    r.err = ig_evtx_dumper_buffer(d, "mem", p, len);
    ig_evtx_dumper_stats(d, &r.st);
    ig_evtx_dumper_destroy(d);
    return &r;
}

/* A template: <Event xmlns=".."><System><EventID Qualifiers=%opt0>%1</EventID>
 * <Computer>%2</Computer><Correlation ActivityID=%opt3/><Security UserID=%4/>
 * <Time SystemTime=%5/><Keywords>%6</Keywords></System><EventData>
 * <Data Name="Guid">%7</Data><Data Name="Flag">%8</Data><Data Name="Bin">%9</Data>
 * <Data Name="Neg">%10</Data></EventData></Event> */
static void template_body(asm_ *c)
{
    u8(c, 0x0f), u8(c, 1), u8(c, 1), u8(c, 0);
    open_el(c, "Event", 1, 1);
    u8(c, 0x06);
    name(c, "xmlns");
    text(c, "http://schemas.microsoft.com/win/2004/08/events/event");
    u8(c, 0x02);
    open_el(c, "System", 0, 1);
    u8(c, 0x02);
    open_el(c, "EventID", 1, 1);
    u8(c, 0x06);
    name(c, "Qualifiers");
    subst(c, 0, 0x06, 1);
    u8(c, 0x02);
    subst(c, 1, 0x06, 0);
    u8(c, 0x04);
    open_el(c, "Computer", 0, 1);
    u8(c, 0x02);
    subst(c, 2, 0x01, 0);
    u8(c, 0x04);
    open_el(c, "Correlation", 1, 1);
    u8(c, 0x06);
    name(c, "ActivityID");
    subst(c, 3, 0x0f, 1);
    u8(c, 0x03);
    open_el(c, "Security", 1, 1);
    u8(c, 0x06);
    name(c, "UserID");
    subst(c, 4, 0x13, 1);
    u8(c, 0x03);
    open_el(c, "Time", 1, 1);
    u8(c, 0x06);
    name(c, "SystemTime");
    subst(c, 5, 0x11, 1);
    u8(c, 0x03);
    open_el(c, "Keywords", 0, 1);
    u8(c, 0x02);
    subst(c, 6, 0x15, 0);
    u8(c, 0x04);
    u8(c, 0x04); /* </System> */
    open_el(c, "EventData", 0, 1);
    u8(c, 0x02);
    const char *names[] = {"Guid", "Flag", "Bin", "Neg"};
    for (uint32_t i = 0; i < 4; i++) {
        open_el(c, "Data", 1, 1);
        u8(c, 0x06);
        name(c, "Name");
        text(c, names[i]);
        u8(c, 0x02);
        subst(c, 7 + i, i == 0 ? 0x0f : i == 1 ? 0x0d : i == 2 ? 0x0e : 0x09, 0);
        u8(c, 0x04);
    }
    u8(c, 0x04); /* </EventData> */
    u8(c, 0x04); /* </Event> */
    u8(c, 0x00);
}

static void template_record(int inline_def, uint32_t *def_off, const char *computer)
{
    asm_ *c = &chunk_asm;
    uint32_t at = record_begin();
    u8(c, 0x0f), u8(c, 1), u8(c, 1), u8(c, 0);
    u8(c, 0x0c);
    u8(c, 1);
    u32(c, 0x1234);
    if (inline_def) {
        *def_off = c->n + 4;
        u32(c, *def_off);
        u32(c, 0); /* next */
        for (int i = 0; i < 16; i++)
            u8(c, (uint32_t)(0x10 + i));
        uint32_t size_at = c->n;
        u32(c, 0);
        uint32_t start = c->n;
        template_body(c);
        put32(c, size_at, c->n - start);
    } else {
        u32(c, *def_off);
    }
    /* values */
    static const uint8_t sid[] = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 0x02, 0, 0};
    static const uint8_t guid[] = {0x5f, 0x38, 0x70, 0x57, 0x2a, 0xc2, 0xe0, 0x43,
                                   0xbf, 0x4c, 0x06, 0xf5, 0x69, 0x8f, 0xfb, 0xd9};
    size_t clen = strlen(computer);
    uint32_t sizes[11] = {0, 2, (uint32_t)clen * 2, 0, sizeof(sid), 8, 8, 16, 4, 3, 8};
    uint32_t types[11] = {0x00, 0x06, 0x01, 0x00, 0x13, 0x11, 0x15, 0x0f, 0x0d, 0x0e, 0x09};
    u32(c, 11);
    for (int i = 0; i < 11; i++) {
        u16(c, sizes[i]);
        u8(c, types[i]);
        u8(c, 0);
    }
    u16(c, 4688);
    utf16(c, computer);
    for (size_t i = 0; i < sizeof(sid); i++)
        u8(c, sid[i]);
    u64(c, 132000000001234567ull);
    u64(c, 0x8020000000000000ull);
    for (size_t i = 0; i < sizeof(guid); i++)
        u8(c, guid[i]);
    u32(c, 1);
    u8(c, 0xde), u8(c, 0xad), u8(c, 0x01);
    u64(c, (uint64_t)-5);
    record_end(at);
}

static const char *want_json(const char *computer, char *buf, size_t n)
{
    snprintf(buf, n,
             "{\"Event\":{\"#attributes\":{\"xmlns\":\"http://schemas.microsoft.com/win/2004/08/"
             "events/event\"},\"System\":{\"EventID\":4688,\"Computer\":\"%s\","
             "\"Correlation\":null,\"Security\":{\"#attributes\":{\"UserID\":\"S-1-5-32-544\"}},"
             "\"Time\":{\"#attributes\":{\"SystemTime\":\"2019-04-17T18:40:00.123456Z\"}},"
             "\"Keywords\":\"0x8020000000000000\"},\"EventData\":{\"Guid\":\"5770385F-C22A-43E0-"
             "BF4C-06F5698FFBD9\",\"Flag\":true,\"Bin\":\"DEAD01\",\"Neg\":-5}}}\n",
             computer);
    return buf;
}

static void test_templates(void)
{
    image im;
    image_init(&im);
    next_rid = 0;
    chunk_begin();
    uint32_t def = 0;
    template_record(1, &def, "WEB01");
    template_record(0, &def, "WEB02 ");
    chunk_finish();
    image_add_chunk(&im);
    /* the same template in a second chunk is reused from the thread cache */
    chunk_begin();
    template_record(1, &def, "WEB03");
    chunk_finish();
    image_add_chunk(&im);
    result *r = run(im.p, im.len, IG_EVTX_JSONL, 1);
    char w1[1024], w2[1024], w3[1024], all[4096];
    snprintf(all, sizeof(all), "%s%s%s", want_json("WEB01", w1, sizeof(w1)),
             want_json("WEB02", w2, sizeof(w2)), want_json("WEB03", w3, sizeof(w3)));
    CHECK(r->err == IG_OK);
    CHECK_STR(r->out, all);
    CHECK(r->st.records == 3 && r->st.anomalies == 0 && r->st.chunks == 2);
    CHECK(r->st.templates_compiled == 1 && r->st.templates_reused == 1);
    CHECK_STR(r->anomalies, "");

    r = run(im.p, im.len, IG_EVTX_XML, 2);
    CHECK(r->st.records == 3);
    CHECK(strstr(r->out, "<Computer>WEB02 </Computer>") != NULL); /* XML keeps spaces */
    CHECK(strstr(r->out, "<EventID>4688</EventID><Computer>WEB01</Computer><Correlation/>"
                         "<Security UserID=\"S-1-5-32-544\"/>"
                         "<Time SystemTime=\"2019-04-17T18:40:00.1234567Z\"/>") != NULL);
    CHECK(strstr(r->out, "<Data Name=\"Guid\">{5770385F-C22A-43E0-BF4C-06F5698FFBD9}</Data>") !=
          NULL);

    /* damage: records CRC and a record whose size copy differs */
    im.p[4096 + 52] ^= 1;
    uint32_t first_size = im.p[4096 + 512 + 4] | (uint32_t)im.p[4096 + 512 + 5] << 8;
    im.p[4096 + 512 + first_size - 1] ^= 0x40; /* trailing copy of record 1 */
    r = run(im.p, im.len, IG_EVTX_JSONL, 1);
    CHECK(r->err == IG_OK);
    CHECK(r->st.records == 2 && r->st.bad_records == 1); /* record 2 and 3 still decoded */
    CHECK(strstr(r->anomalies, "0@4148:chunk records CRC32 mismatch") != NULL);
    CHECK(strstr(r->anomalies, "differs from its trailing copy") != NULL);
    CHECK(strstr(r->out, "WEB02") != NULL && strstr(r->out, "WEB03") != NULL);

    /* damage: bad chunk signature → that chunk skipped, the next one read */
    im.p[4096] = 'X';
    r = run(im.p, im.len, IG_EVTX_JSONL, 1);
    CHECK(r->st.records == 1 && strstr(r->out, "WEB03") != NULL);
    CHECK(strstr(r->anomalies, "0@4096:bad chunk signature") != NULL);
    free(im.p);
}

/* Template-less record: elements without dependency id, inline values. */
static void test_template_less(void)
{
    for (int dep = 0; dep < 2; dep++) {
        image im;
        image_init(&im);
        chunk_begin();
        asm_ *c = &chunk_asm;
        uint32_t at = record_begin();
        u8(c, 0x0f), u8(c, 1), u8(c, 1), u8(c, 0);
        open_el(c, "Event", 1, dep);
        u8(c, 0x06);
        name(c, "Level");
        text(c, "4");
        u8(c, 0x02);
        open_el(c, "Data", 0, dep);
        u8(c, 0x02);
        text(c, "a<b");
        u8(c, 0x04);
        open_el(c, "Data", 0, dep);
        u8(c, 0x02);
        text(c, "x");
        u8(c, 0x48), u16(c, 0x41); /* char ref 'A' */
        u8(c, 0x04);
        u8(c, 0x04);
        u8(c, 0x00);
        record_end(at);
        chunk_finish();
        image_add_chunk(&im);
        result *r = run(im.p, im.len, IG_EVTX_JSONL, 1);
        CHECK_STR(r->out,
                  "{\"Event\":{\"#attributes\":{\"Level\":\"4\"},\"Data\":{\"#text\":[\"a<b\","
                  "\"xA\"]}}}\n");
        CHECK(r->st.anomalies == 0);
        r = run(im.p, im.len, IG_EVTX_XML, 1);
        CHECK_STR(r->out, "<Event Level=\"4\"><Data>a&lt;b</Data><Data>x&#65;</Data></Event>\n");
        free(im.p);
    }
}

static void test_damage(void)
{
    result *r = run((const uint8_t *)"hello", 5, IG_EVTX_JSONL, 1);
    CHECK(r->err == IG_EFORMAT && r->st.files_failed == 1 && r->st.records == 0);
    CHECK(strstr(r->anomalies, "not an EVTX file") != NULL);

    /* truncated Binary XML: the record is kept (with its id) and reported */
    image im;
    image_init(&im);
    next_rid = 41;
    chunk_begin();
    asm_ *c = &chunk_asm;
    uint32_t at = record_begin();
    u8(c, 0x0f), u8(c, 1), u8(c, 1), u8(c, 0);
    open_el(c, "Event", 0, 1);
    u8(c, 0x02);
    record_end(at);
    chunk_finish();
    image_add_chunk(&im);
    /* header CRC damage is reported but not fatal */
    im.p[4096 + 124] ^= 0xff;
    r = run(im.p, im.len, IG_EVTX_JSONL, 1);
    CHECK(r->err == IG_OK && r->st.records == 1);
    CHECK(strstr(r->out, "\"EventRecordID\":42") != NULL &&
          strstr(r->out, "#decode_error") != NULL);
    CHECK(strstr(r->anomalies, "record 42: element not closed") != NULL);
    CHECK(strstr(r->anomalies, "chunk header CRC32 mismatch") != NULL);
    /* a truncated file: partial chunk reported */
    r = run(im.p, im.len - 100, IG_EVTX_JSONL, 1);
    CHECK(strstr(r->anomalies, "truncated chunk") != NULL);
    free(im.p);
}

int main(void)
{
    test_templates();
    test_template_less();
    test_damage();
    TEST_MAIN_END();
}
