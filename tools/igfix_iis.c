/* IIS host trees for tests and the demo: the root of a system drive with
 * applicationHost.config (every IIS 10 module of the baseline registered
 * and enabled), the module DLLs (minimal PE files exporting RegisterModule),
 * the default site and an IIS history copy.  The demo scenario plants a
 * native module outside the IIS folders, a site-level ISAPI filter and a
 * managed module whose assembly is in the site's bin folder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>

#include "audit/baseline.h"
#include "igfix.h"

/* mkdir -p for the folders of `path` (a file) */
static int mkparents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0777);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

/* The local path under `root` of a Windows path (%vars% expanded, C: only). */
static int local_path(const char *root, const char *win, char *out, size_t n)
{
    char exp[1024];
    if (!bl_expand(win, exp, sizeof(exp)) || exp[1] != ':')
        return -1;
    int w = snprintf(out, n, "%s%s", root, exp + 2);
    if (w < 0 || (size_t)w >= n)
        return -1;
    for (char *p = out + strlen(root); *p; p++)
        if (*p == '\\')
            *p = '/';
    return mkparents(out);
}

static int write_text(const char *path, const char *text)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s", path);
    if (mkparents(p) != 0)
        return -1;
    FILE *f = fopen(p, "w");
    int rc = f != NULL && fputs(text, f) >= 0 ? 0 : -1;
    if (f != NULL && fclose(f) != 0)
        rc = -1;
    return rc;
}

static int dll(const char *root, const char *win, const char *const *exports, size_t n)
{
    char p[4096];
    const char *base = strrchr(win, '\\');
    if (local_path(root, win, p, sizeof(p)) != 0)
        return -1;
    return igfix_write_dll(p, base ? base + 1 : win, exports, n);
}

static void append(char **buf, size_t *len, const char *fmt, const char *a, const char *b)
{
    char line[1024];
    int w = snprintf(line, sizeof(line), fmt, a, b);
    if (w <= 0)
        return;
    char *nb = realloc(*buf, *len + (size_t)w + 1);
    if (nb == NULL)
        return;
    memcpy(nb + *len, line, (size_t)w + 1);
    *buf = nb;
    *len += (size_t)w;
}

/* applicationHost.config: the baseline (no add-ons), and what `demo` plants. */
static char *apphost(bool demo)
{
    char *b = NULL;
    size_t n = 0;
    append(&b, &n, "%s%s",
           "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<configuration>\n"
           "  <system.applicationHost>\n    <applicationPools>\n"
           "      <add name=\"DefaultAppPool\" managedRuntimeVersion=\"v4.0\" />\n"
           "    </applicationPools>\n    <sites>\n"
           "      <site name=\"Default Web Site\" id=\"1\">\n        <application path=\"/\">\n"
           "          <virtualDirectory path=\"/\" "
           "physicalPath=\"%SystemDrive%\\inetpub\\wwwroot\" />\n"
           "        </application>\n      </site>\n    </sites>\n  </system.applicationHost>\n",
           "  <system.webServer>\n    <globalModules>\n");
    for (size_t i = 0; i < bl_nnative; i++)
        if (!bl_native[i].addon)
            append(&b, &n, "      <add name=\"%s\" image=\"%s\" />\n", bl_native[i].name,
                   bl_native[i].image);
    if (demo)
        append(&b, &n, "      <add name=\"%s\" image=\"%s\" />\n", "IISHealthCheck",
               "%ProgramData%\\Microsoft\\IIS\\IISHealthCheck.dll");
    append(&b, &n, "%s%s", "    </globalModules>\n", "    <modules>\n");
    /* every module enabled; the ASP.NET engines by their preConditions */
    for (size_t i = 0; i < bl_nnative; i++)
        if (!bl_native[i].addon)
            append(&b, &n, "      <add name=\"%s\"%s/>\n", bl_native[i].name,
                   strncmp(bl_native[i].name, "ManagedEngine", 13) == 0
                       ? " preCondition=\"integratedMode\" "
                       : " lockItem=\"true\" ");
    append(&b, &n, "%s%s", demo ? "      <add name=\"IISHealthCheck\" />\n" : "", "");
    append(&b, &n, "%s%s",
           "      <add name=\"OutputCache\" type=\"System.Web.Caching.OutputCacheModule\" "
           "preCondition=\"managedHandler\" />\n    </modules>\n",
           "    <httpLogging dontLog=\"false\" />\n  </system.webServer>\n");
    if (demo)
        append(&b, &n, "%s%s",
               "  <location path=\"Default Web Site\">\n    <system.webServer>\n"
               "      <isapiFilters>\n        <filter name=\"SiteMonitor\" "
               "path=\"%SystemDrive%\\inetpub\\wwwroot\\bin\\monitor.dll\" />\n",
               "      </isapiFilters>\n    </system.webServer>\n  </location>\n");
    append(&b, &n, "%s%s", "</configuration>\n", "");
    return b;
}

int igfix_iis(const char *root, bool demo)
{
    static const char *const reg[] = {"RegisterModule"};
    static const char *const filter[] = {"GetFilterVersion", "HttpFilterProc", "TerminateFilter"};
    char p[4096];
    int rc = 0;
    for (size_t i = 0; i < bl_nnative && rc == 0; i++)
        if (!bl_native[i].addon)
            rc = dll(root, bl_native[i].image, reg, 1);
    static const char *const core[] = {"GetServerInstance"};
    rc = rc ? rc : dll(root, "%windir%\\System32\\inetsrv\\iiscore.dll", core, 1);
    char *clean = apphost(false), *conf = demo ? apphost(true) : clean;
    if (clean == NULL || conf == NULL)
        return -1;
    snprintf(p, sizeof(p), "%s/Windows/System32/inetsrv/config/applicationHost.config", root);
    rc = rc ? rc : write_text(p, conf);
    /* IIS's history copy of the configuration as installed */
    snprintf(p, sizeof(p), "%s/inetpub/history/CFGHISTORY_0000000001/applicationHost.config", root);
    rc = rc ? rc : write_text(p, clean);
    struct utimbuf t = {1710230400, 1710230400}; /* 2024-03-12 08:00:00 UTC */
    if (rc == 0)
        utime(p, &t);
    snprintf(p, sizeof(p), "%s/inetpub/wwwroot/web.config", root);
    rc = rc ? rc
            : write_text(p, demo ? "<?xml version=\"1.0\"?>\n<configuration>\n  "
                                   "<system.webServer>\n    <modules>\n      <add "
                                   "name=\"SessionStateHelper\" type=\"SessionStateHelper."
                                   "StateModule, SessionStateHelper\" />\n    </modules>\n  "
                                   "</system.webServer>\n</configuration>\n"
                                 : "<?xml version=\"1.0\"?>\n<configuration />\n");
    if (demo && rc == 0) {
        rc = dll(root, "%ProgramData%\\Microsoft\\IIS\\IISHealthCheck.dll", reg, 1);
        rc = rc ? rc : dll(root, "%SystemDrive%\\inetpub\\wwwroot\\bin\\monitor.dll", filter, 3);
        static const char *const none[] = {"DllGetClassObject"};
        rc =
            rc ? rc
               : dll(root, "%SystemDrive%\\inetpub\\wwwroot\\bin\\SessionStateHelper.dll", none, 1);
    }
    if (conf != clean)
        free(conf);
    free(clean);
    return rc;
}
