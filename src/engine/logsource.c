/* Sigma log sources → Windows event log channels and EventIDs, so that a
 * rule only sees the events it was written for (Sigma taxonomy appendix;
 * the Sysmon categories are Sysmon's event ids, process_creation is also
 * Security 4688, the ps_* categories are the PowerShell channels). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/engine.h"

#define SYSMON "Microsoft-Windows-Sysmon/Operational"

typedef struct cat_map {
    const char *category;
    const char *channel;
    uint16_t eids[4];
} cat_map;

/* A category may appear on several lines: each is one alternative. */
static const cat_map categories[] = {
    {"process_creation", SYSMON, {1}},
    {"process_creation", "Security", {4688}},
    {"file_change", SYSMON, {2}},
    {"network_connection", SYSMON, {3}},
    {"sysmon_status", SYSMON, {4, 16}},
    {"process_termination", SYSMON, {5}},
    {"driver_load", SYSMON, {6}},
    {"image_load", SYSMON, {7}},
    {"create_remote_thread", SYSMON, {8}},
    {"raw_access_thread", SYSMON, {9}},
    {"process_access", SYSMON, {10}},
    {"file_event", SYSMON, {11}},
    {"registry_add", SYSMON, {12}},
    {"registry_delete", SYSMON, {12}},
    {"registry_set", SYSMON, {13}},
    {"registry_rename", SYSMON, {14}},
    {"registry_event", SYSMON, {12, 13, 14}},
    {"create_stream_hash", SYSMON, {15}},
    {"pipe_created", SYSMON, {17, 18}},
    {"wmi_event", SYSMON, {19, 20, 21}},
    {"dns_query", SYSMON, {22}},
    {"file_delete", SYSMON, {23, 26}},
    {"clipboard_capture", SYSMON, {24}},
    {"process_tampering", SYSMON, {25}},
    {"file_block_executable", SYSMON, {27}},
    {"file_block_shredding", SYSMON, {28}},
    {"file_executable_detected", SYSMON, {29}},
    {"sysmon_error", SYSMON, {255}},
    {"ps_module", "Microsoft-Windows-PowerShell/Operational", {4103}},
    {"ps_script", "Microsoft-Windows-PowerShell/Operational", {4104}},
    {"ps_classic_start", "Windows PowerShell", {400}},
    {"ps_classic_provider_start", "Windows PowerShell", {600}},
    {"ps_classic_script", "Windows PowerShell", {800}},
};

typedef struct svc_map {
    const char *service;
    const char *channel;
} svc_map;

static const svc_map services[] = {
    {"security", "Security"},
    {"system", "System"},
    {"application", "Application"},
    {"sysmon", SYSMON},
    {"powershell", "Microsoft-Windows-PowerShell/Operational"},
    {"powershell-classic", "Windows PowerShell"},
    {"taskscheduler", "Microsoft-Windows-TaskScheduler/Operational"},
    {"wmi", "Microsoft-Windows-WMI-Activity/Operational"},
    {"dns-server", "DNS Server"},
    {"dns-client", "Microsoft-Windows-DNS Client Events/Operational"},
    {"driver-framework", "Microsoft-Windows-DriverFrameworks-UserMode/Operational"},
    {"firewall-as", "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"},
    {"bits-client", "Microsoft-Windows-Bits-Client/Operational"},
    {"codeintegrity-operational", "Microsoft-Windows-CodeIntegrity/Operational"},
    {"windefend", "Microsoft-Windows-Windows Defender/Operational"},
    {"applocker", "Microsoft-Windows-AppLocker/EXE and DLL"},
    {"applocker", "Microsoft-Windows-AppLocker/MSI and Script"},
    {"applocker", "Microsoft-Windows-AppLocker/Packaged app-Deployment"},
    {"applocker", "Microsoft-Windows-AppLocker/Packaged app-Execution"},
    {"printservice-admin", "Microsoft-Windows-PrintService/Admin"},
    {"printservice-operational", "Microsoft-Windows-PrintService/Operational"},
    {"smbclient-security", "Microsoft-Windows-SmbClient/Security"},
    {"smbclient-connectivity", "Microsoft-Windows-SmbClient/Connectivity"},
    {"smbserver-connectivity", "Microsoft-Windows-SMBServer/Connectivity"},
    {"ntlm", "Microsoft-Windows-NTLM/Operational"},
    {"terminalservices-localsessionmanager",
     "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"},
    {"iis-configuration", "Microsoft-IIS-Configuration/Operational"},
    {"msexchange-management", "MSExchange Management"},
    {"ldap", "Microsoft-Windows-LDAP-Client/Debug"},
    {"openssh", "OpenSSH/Operational"},
    {"shell-core", "Microsoft-Windows-Shell-Core/Operational"},
    {"security-mitigations", "Microsoft-Windows-Security-Mitigations/Kernel Mode"},
    {"security-mitigations", "Microsoft-Windows-Security-Mitigations/User Mode"},
    {"diagnosis-scripted", "Microsoft-Windows-Diagnosis-Scripted/Operational"},
    {"capi2", "Microsoft-Windows-CAPI2/Operational"},
    {"certificateservicesclient-lifecycle-system",
     "Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"},
    {"appxdeployment-server", "Microsoft-Windows-AppXDeploymentServer/Operational"},
    {"appxpackaging-om", "Microsoft-Windows-AppxPackaging/Operational"},
    {"appmodel-runtime", "Microsoft-Windows-AppModel-Runtime/Admin"},
    {"lsa-server", "Microsoft-Windows-LSA/Operational"},
    {"microsoft-servicebus-client", "Microsoft-ServiceBus-Client"},
    {"kernel-shimengine", "Microsoft-Windows-Kernel-ShimEngine/Operational"},
    {"vhdmp", "Microsoft-Windows-VHDMP-Operational"},
    {"dhcp", "Microsoft-Windows-DHCP-Server/Operational"},
    {"bitlocker", "Microsoft-Windows-BitLocker/BitLocker Management"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A reason naming the log source, kept in the arena. */
static const char *reason(ig_arena *a, const char *fmt, const char *name)
{
    char tmp[256];
    int n = snprintf(tmp, sizeof(tmp), fmt, name);
    if (n < 0)
        return fmt;
    size_t len = (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1;
    char *s = ig_arena_alloc(a, len + 1);
    if (s == NULL)
        return fmt;
    memcpy(s, tmp, len);
    s[len] = '\0';
    return s;
}

bool em_logsource(const sg_rule *r, ig_arena *a, const em_source **out, uint32_t *n,
                  const char **why)
{
    if (r->product != NULL && strcasecmp(r->product, "windows") != 0) {
        *why = "log source is not a Windows event log (product is not windows)";
        return false;
    }
    em_source tmp[16];
    uint32_t k = 0;
    if (r->category != NULL) {
        for (size_t i = 0; i < COUNT(categories) && k < COUNT(tmp); i++) {
            if (strcasecmp(categories[i].category, r->category) != 0)
                continue;
            uint32_t ne = 0;
            while (ne < 4 && categories[i].eids[ne] != 0)
                ne++;
            tmp[k++] = (em_source){categories[i].channel, categories[i].eids, ne};
        }
        if (k == 0) {
            *why =
                reason(a, "log source category '%s' has no Windows event log mapping", r->category);
            return false;
        }
    }
    if (r->service != NULL) {
        em_source svc[8];
        uint32_t ns = 0;
        for (size_t i = 0; i < COUNT(services) && ns < COUNT(svc); i++)
            if (strcasecmp(services[i].service, r->service) == 0)
                svc[ns++] = (em_source){services[i].channel, NULL, 0};
        if (ns == 0) {
            *why =
                reason(a, "log source service '%s' has no Windows event log mapping", r->service);
            return false;
        }
        if (k == 0) {
            memcpy(tmp, svc, sizeof(*svc) * ns);
            k = ns;
        } else {
            /* category and service: keep the category's alternatives on the
             * service's channels */
            uint32_t kept = 0;
            for (uint32_t i = 0; i < k; i++)
                for (uint32_t j = 0; j < ns; j++)
                    if (strcmp(tmp[i].channel, svc[j].channel) == 0)
                        tmp[kept++] = tmp[i];
            if (kept == 0) {
                *why = "log source category and service do not meet";
                return false;
            }
            k = kept;
        }
    }
    if (k == 0) { /* product only: every Windows event */
        *out = NULL;
        *n = 0;
        return true;
    }
    em_source *v = ig_arena_dup(a, tmp, sizeof(*tmp) * k);
    if (v == NULL) {
        *why = "out of memory";
        return false;
    }
    *out = v;
    *n = k;
    return true;
}
