/* The IIS 10 baseline (baseline.h): module names and images as Windows
 * Server 2016-2022 install them, by role service. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "audit/baseline.h"

#define INETSRV "%windir%\\System32\\inetsrv\\"

const bl_module bl_native[] = {
    {"HttpLoggingModule", INETSRV "loghttp.dll", "Web-Http-Logging", false},
    {"UriCacheModule", INETSRV "cachuri.dll", "core", false},
    {"FileCacheModule", INETSRV "cachfile.dll", "core", false},
    {"TokenCacheModule", INETSRV "cachtokn.dll", "core", false},
    {"HttpCacheModule", INETSRV "cachhttp.dll", "core", false},
    {"StaticCompressionModule", INETSRV "compstat.dll", "Web-Stat-Compression", false},
    {"DynamicCompressionModule", INETSRV "compdyn.dll", "Web-Dyn-Compression", false},
    {"DefaultDocumentModule", INETSRV "defdoc.dll", "Web-Default-Doc", false},
    {"DirectoryListingModule", INETSRV "dirlist.dll", "Web-Dir-Browsing", false},
    {"ProtocolSupportModule", INETSRV "protsup.dll", "core", false},
    {"StaticFileModule", INETSRV "static.dll", "Web-Static-Content", false},
    {"AnonymousAuthenticationModule", INETSRV "authanon.dll", "core", false},
    {"RequestFilteringModule", INETSRV "modrqflt.dll", "Web-Filtering", false},
    {"CustomErrorModule", INETSRV "custerr.dll", "Web-Http-Errors", false},
    {"HttpRedirectionModule", INETSRV "redirect.dll", "Web-Http-Redirect", false},
    {"CustomLoggingModule", INETSRV "logcust.dll", "Web-Custom-Logging", false},
    {"RequestMonitorModule", INETSRV "iisreqs.dll", "Web-Request-Monitor", false},
    {"TracingModule", INETSRV "iisetw.dll", "Web-Http-Tracing", false},
    {"FailedRequestsTracingModule", INETSRV "iisfreb.dll", "Web-Http-Tracing", false},
    {"BasicAuthenticationModule", INETSRV "authbas.dll", "Web-Basic-Auth", false},
    {"WindowsAuthenticationModule", INETSRV "authsspi.dll", "Web-Windows-Auth", false},
    {"DigestAuthenticationModule", INETSRV "authmd5.dll", "Web-Digest-Auth", false},
    {"CertificateMappingAuthenticationModule", INETSRV "authcert.dll", "Web-Client-Auth", false},
    {"IISCertificateMappingAuthenticationModule", INETSRV "authmap.dll", "Web-Cert-Auth", false},
    {"IpRestrictionModule", INETSRV "iprestr.dll", "Web-IP-Security", false},
    {"DynamicIpRestrictionModule", INETSRV "diprestr.dll", "Web-IP-Security", false},
    {"UrlAuthorizationModule", INETSRV "urlauthz.dll", "Web-Url-Auth", false},
    {"ApplicationInitializationModule", INETSRV "warmup.dll", "Web-AppInit", false},
    {"CgiModule", INETSRV "cgi.dll", "Web-CGI", false},
    {"FastCgiModule", INETSRV "iisfcgi.dll", "Web-CGI", false},
    {"IsapiModule", INETSRV "isapi.dll", "Web-ISAPI-Ext", false},
    {"IsapiFilterModule", INETSRV "filter.dll", "Web-ISAPI-Filter", false},
    {"ServerSideIncludeModule", INETSRV "iis_ssi.dll", "Web-Includes", false},
    {"WebSocketModule", INETSRV "iiswsock.dll", "Web-WebSockets", false},
    {"WebDAVModule", INETSRV "webdav.dll", "Web-DAV-Publishing", false},
    {"ConfigurationValidationModule", INETSRV "validcfg.dll", "Web-Asp-Net45", false},
    {"ManagedEngineV4.0_32bit", "%windir%\\Microsoft.NET\\Framework\\v4.0.30319\\webengine4.dll",
     "Web-Asp-Net45", false},
    {"ManagedEngineV4.0_64bit", "%windir%\\Microsoft.NET\\Framework64\\v4.0.30319\\webengine4.dll",
     "Web-Asp-Net45", false},
    {"ManagedEngine", "%windir%\\Microsoft.NET\\Framework\\v2.0.50727\\webengine.dll",
     "Web-Asp-Net", false},
    {"ManagedEngine64", "%windir%\\Microsoft.NET\\Framework64\\v2.0.50727\\webengine.dll",
     "Web-Asp-Net", false},
    /* Microsoft add-ons, installed on their own */
    {"RewriteModule", INETSRV "rewrite.dll", "URL Rewrite", true},
    {"ApplicationRequestRouting",
     "%ProgramFiles%\\IIS\\Application Request Routing\\requestRouter.dll",
     "Application Request Routing", true},
    {"AspNetCoreModule", INETSRV "aspnetcore.dll", "ASP.NET Core Module", true},
    {"AspNetCoreModuleV2", "%ProgramFiles%\\IIS\\Asp.Net Core Module\\V2\\aspnetcorev2.dll",
     "ASP.NET Core Hosting Bundle", true},
};
const size_t bl_nnative = sizeof(bl_native) / sizeof(bl_native[0]);

const bl_managed bl_managed_modules[] = {
    {"OutputCache", "System.Web.Caching.OutputCacheModule"},
    {"Session", "System.Web.SessionState.SessionStateModule"},
    {"WindowsAuthentication", "System.Web.Security.WindowsAuthenticationModule"},
    {"FormsAuthentication", "System.Web.Security.FormsAuthenticationModule"},
    {"DefaultAuthentication", "System.Web.Security.DefaultAuthenticationModule"},
    {"RoleManager", "System.Web.Security.RoleManagerModule"},
    {"UrlAuthorization", "System.Web.Security.UrlAuthorizationModule"},
    {"FileAuthorization", "System.Web.Security.FileAuthorizationModule"},
    {"AnonymousIdentification", "System.Web.Security.AnonymousIdentificationModule"},
    {"Profile", "System.Web.Profile.ProfileModule"},
    {"UrlMappingsModule", "System.Web.UrlMappingsModule"},
    {"UrlRoutingModule-4.0", "System.Web.Routing.UrlRoutingModule"},
    {"ScriptModule-4.0", "System.Web.Handlers.ScriptModule"},
    {"ServiceModel-4.0", "System.ServiceModel.Activation.ServiceHttpModule"},
    {"ServiceModel", "System.ServiceModel.Activation.HttpModule"},
};
const size_t bl_nmanaged = sizeof(bl_managed_modules) / sizeof(bl_managed_modules[0]);

const bl_module *bl_native_find(const char *name)
{
    for (size_t i = 0; i < bl_nnative; i++)
        if (strcasecmp(bl_native[i].name, name) == 0)
            return &bl_native[i];
    return NULL;
}

const bl_managed *bl_managed_find(const char *name)
{
    for (size_t i = 0; i < bl_nmanaged; i++)
        if (strcasecmp(bl_managed_modules[i].name, name) == 0)
            return &bl_managed_modules[i];
    return NULL;
}

bool bl_security_module(const char *name)
{
    static const char *const sec[] = {"RequestFilteringModule",
                                      "IpRestrictionModule",
                                      "DynamicIpRestrictionModule",
                                      "UrlAuthorizationModule",
                                      "WindowsAuthenticationModule",
                                      "BasicAuthenticationModule",
                                      "DigestAuthenticationModule",
                                      "HttpLoggingModule",
                                      "CustomLoggingModule",
                                      "FailedRequestsTracingModule",
                                      "UrlAuthorization",
                                      "FileAuthorization",
                                      "FormsAuthentication",
                                      "WindowsAuthentication"};
    for (size_t i = 0; i < sizeof(sec) / sizeof(sec[0]); i++)
        if (strcasecmp(sec[i], name) == 0)
            return true;
    return false;
}

bool bl_expand(const char *in, char *out, size_t n)
{
    static const struct {
        const char *var, *value;
    } vars[] = {{"windir", "C:\\Windows"},
                {"systemroot", "C:\\Windows"},
                {"systemdrive", "C:"},
                {"programfiles", "C:\\Program Files"},
                {"programfiles(x86)", "C:\\Program Files (x86)"},
                {"programw6432", "C:\\Program Files"},
                {"programdata", "C:\\ProgramData"},
                {"iis_bin", "C:\\Windows\\System32\\inetsrv"},
                {"public", "C:\\Users\\Public"},
                {"temp", "C:\\Windows\\Temp"},
                {"tmp", "C:\\Windows\\Temp"}};
    size_t o = 0;
    for (const char *p = in; *p;) {
        if (*p == '%') {
            const char *end = strchr(p + 1, '%');
            if (end == NULL)
                return false;
            size_t l = (size_t)(end - p - 1);
            size_t k = 0;
            while (k < sizeof(vars) / sizeof(vars[0]) &&
                   !(strlen(vars[k].var) == l && strncasecmp(vars[k].var, p + 1, l) == 0))
                k++;
            if (k == sizeof(vars) / sizeof(vars[0]))
                return false;
            size_t vl = strlen(vars[k].value);
            if (o + vl >= n)
                return false;
            memcpy(out + o, vars[k].value, vl);
            o += vl;
            p = end + 1;
            continue;
        }
        if (o + 1 >= n)
            return false;
        out[o++] = *p == '/' ? '\\' : *p;
        p++;
    }
    out[o] = '\0';
    return true;
}

/* lower-case copy of an expanded path */
static bool norm(const char *in, char *out, size_t n)
{
    if (!bl_expand(in, out, n))
        return false;
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return true;
}

bool bl_same_image(const char *a, const char *b)
{
    char x[1024], y[1024];
    return norm(a, x, sizeof(x)) && norm(b, y, sizeof(y)) && strcmp(x, y) == 0;
}

bool bl_trusted_dir(const char *p)
{
    static const char *const dirs[] = {"c:\\windows\\system32\\inetsrv\\",
                                       "c:\\windows\\syswow64\\inetsrv\\",
                                       "c:\\windows\\microsoft.net\\framework\\",
                                       "c:\\windows\\microsoft.net\\framework64\\",
                                       "c:\\program files\\iis\\",
                                       "c:\\program files (x86)\\iis\\",
                                       "c:\\windows\\system32\\rpcproxy\\"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (strncmp(p, dirs[i], strlen(dirs[i])) == 0 && strstr(p, "..") == NULL)
            return true;
    return false;
}
