/* iisguard — finds malicious IIS components (MITRE ATT&CK T1505.004). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "iisguard/iisguard.h"

static void usage(FILE *f)
{
    fputs("usage: iisguard COMMAND [ARGS]\n"
          "commands:\n"
          "  dump FILE|DIR...   decode Windows event logs (.evtx) to JSON lines or XML\n"
          "  hunt PATH... --rules R   run Sigma rules over event logs, print alerts\n"
          "  rules check R...   load Sigma rules and report the ones that do not load\n"
          "  rules coverage     the built-in pack's coverage of IIS install paths\n"
          "  inspect FILE...    what a DLL is to IIS: exports, class, version, anomalies\n"
          "  scan DIR...        every IIS component (ISAPI, native module) under a folder\n"
          "  audit --root DIR   every component an offline IIS host loads, and findings\n"
          "  stream --stdin     continuous detection over JSON-lines events as they arrive\n"
          "  version            print the version\n"
          "Run 'iisguard COMMAND --help' for a command's options.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "dump") == 0)
        return cmd_dump(argc - 1, argv + 1);
    if (strcmp(cmd, "hunt") == 0)
        return cmd_hunt(argc - 1, argv + 1);
    if (strcmp(cmd, "rules") == 0)
        return cmd_rules(argc - 1, argv + 1);
    if (strcmp(cmd, "inspect") == 0)
        return cmd_inspect(argc - 1, argv + 1);
    if (strcmp(cmd, "scan") == 0)
        return cmd_scan(argc - 1, argv + 1);
    if (strcmp(cmd, "audit") == 0)
        return cmd_audit(argc - 1, argv + 1);
    if (strcmp(cmd, "stream") == 0)
        return cmd_stream(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("iisguard %s\n", IG_VERSION);
        return 0;
    }
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "iisguard: unknown command '%s'\n", cmd);
    usage(stderr);
    return 1;
}
