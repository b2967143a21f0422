#!/usr/bin/env python3
"""`iisguard audit` on IIS hosts written here: a clean default host (no finding
of low or worse), one host per finding, damaged and hostile configurations
(malformed XML, XXE, billion laughs, a symbolic link loop, a huge file), and
the real applicationHost.config files of ../shared/data/iis when present.
usage: test_audit.py IISGUARD [SHARED_DIR] [IGFIX]"""
import json, os, shutil, subprocess, sys, tempfile

exe = os.path.abspath(sys.argv[1])
shared = sys.argv[2] if len(sys.argv) > 2 else None
igfix = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from checks import check, finish  # noqa: E402


DEFAULT = [('HttpLoggingModule', 'loghttp.dll'), ('UriCacheModule', 'cachuri.dll'),
           ('StaticFileModule', 'static.dll'), ('DefaultDocumentModule', 'defdoc.dll'),
           ('AnonymousAuthenticationModule', 'authanon.dll'),
           ('RequestFilteringModule', 'modrqflt.dll'), ('CustomErrorModule', 'custerr.dll'),
           ('IsapiModule', 'isapi.dll'), ('IsapiFilterModule', 'filter.dll')]


def host(root, extra_global='', extra_modules='', extra_ws='', extra_conf='', web_config=None,
         files=(), redirection=None):
    inetsrv = os.path.join(root, 'Windows', 'System32', 'inetsrv')
    os.makedirs(os.path.join(inetsrv, 'config'), exist_ok=True)
    for _, dll in DEFAULT + [('core', 'iiscore.dll')]:
        open(os.path.join(inetsrv, dll), 'wb').write(b'not a real DLL')
    for rel, data in files:
        p = os.path.join(root, *rel.split('/'))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, 'wb').write(data)
    g = '\n'.join(f'<add name="{n}" image="%windir%\\System32\\inetsrv\\{d}" />'
                  for n, d in DEFAULT)
    m = '\n'.join(f'<add name="{n}" lockItem="true" />' for n, _ in DEFAULT)
    conf = f'''<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.applicationHost>
    <sites>
      <site name="Default Web Site" id="1">
        <application path="/">
          <virtualDirectory path="/" physicalPath="%SystemDrive%\\inetpub\\wwwroot" />
        </application>
      </site>
    </sites>
  </system.applicationHost>
  <system.webServer>
    <globalModules>
{g}
{extra_global}
    </globalModules>
    <modules>
{m}
{extra_modules}
    </modules>
    <httpLogging dontLog="false" />
{extra_ws}
  </system.webServer>
{extra_conf}
</configuration>
'''
    open(os.path.join(inetsrv, 'config', 'applicationHost.config'), 'w').write(conf)
    if redirection is not None:
        open(os.path.join(inetsrv, 'config', 'redirection.config'), 'w').write(redirection)
    os.makedirs(os.path.join(root, 'inetpub', 'wwwroot'), exist_ok=True)
    if web_config is not None:
        open(os.path.join(root, 'inetpub', 'wwwroot', 'web.config'), 'w').write(web_config)


def audit(root, *args):
    r = subprocess.run([exe, 'audit', '-q', '--format', 'json', '--root', root] + list(args),
                       capture_output=True, timeout=120)
    try:
        return json.loads(r.stdout.decode()), r.returncode
    except ValueError:
        return None, r.returncode


def ids(rep, minimum=('critical', 'high', 'medium', 'low')):
    return sorted({f['id'] for f in rep['findings'] if f['severity'] in minimum})


tmp = tempfile.mkdtemp()
try:
    # a clean default host
    root = os.path.join(tmp, 'clean')
    host(root)
    rep, rc = audit(root)
    check(rep is not None and rc == 0 and ids(rep) == [], f'clean host: rc {rc}, {rep and ids(rep)}')
    check(rep and len([c for c in rep['components'] if c['kind'] == 'native_module']) == len(DEFAULT),
          'clean host inventory')

    WEB = '<configuration><system.webServer>{}</system.webServer></configuration>'
    cases = {
        'unknown-native-module': dict(
            extra_global='<add name="ProxyModule" image="%windir%\\System32\\inetsrv\\iisproxy.dll" />',
            extra_modules='<add name="ProxyModule" />',
            files=[('Windows/System32/inetsrv/iisproxy.dll', b'x')]),
        'image-outside-trusted-dirs': dict(
            extra_global='<add name="Health" image="C:\\ProgramData\\Microsoft\\h.dll" />',
            extra_modules='<add name="Health" />', files=[('ProgramData/Microsoft/h.dll', b'x')]),
        'baseline-name-foreign-image': dict(
            extra_global='<add name="TracingModule" image="C:\\Windows\\Temp\\iisetw.dll" />',
            extra_modules='<add name="TracingModule" />'),
        'lookalike-module-name': dict(
            extra_global='<add name="ManagedEngineV4.1_64bit" image="%windir%\\System32\\inetsrv\\webengine5.dll" />',
            extra_modules='<add name="ManagedEngineV4.1_64bit" />',
            files=[('Windows/System32/inetsrv/webengine5.dll', b'x')]),
        'dormant-module': dict(
            extra_global='<add name="DynamicCompressionModule" image="%windir%\\System32\\inetsrv\\compdyn.dll" />',
            files=[('Windows/System32/inetsrv/compdyn.dll', b'x')]),
        'unregistered-module': dict(extra_modules='<add name="GhostModule" />'),
        'image-missing': dict(
            extra_global='<add name="CgiModule" image="%windir%\\System32\\inetsrv\\cgi.dll" />',
            extra_modules='<add name="CgiModule" />'),
        'isapi-filter': dict(extra_conf='<location path="Default Web Site"><system.webServer>'
                             '<isapiFilters><filter name="f" path="C:\\inetpub\\f.dll" /></isapiFilters>'
                             '</system.webServer></location>', files=[('inetpub/f.dll', b'x')]),
        'handler-script-processor': dict(extra_ws='<handlers><add name="x" path="*.axd" verb="*" '
                                         'modules="IsapiModule" scriptProcessor="C:\\inetpub\\x.dll" />'
                                         '</handlers>'),
        'nonsystem-managed-module': dict(web_config=WEB.format(
            '<modules><add name="Helper" type="Contoso.Web.Helper, Contoso.Web" /></modules>')),
        'notlisted-isapis-allowed': dict(extra_ws='<security><isapiCgiRestriction '
                                         'notListedIsapisAllowed="true" /></security>'),
        'notlisted-cgis-allowed': dict(extra_ws='<security><isapiCgiRestriction '
                                       'notListedCgisAllowed="true" /></security>'),
        'security-module-removed': dict(extra_conf='<location path="Default Web Site/app">'
                                        '<system.webServer><modules><remove name="RequestFilteringModule" />'
                                        '</modules></system.webServer></location>'),
        'logging-disabled': dict(web_config=WEB.format('<httpLogging dontLog="true" />')),
        'frt-custom-action': dict(extra_ws='<tracing><traceFailedRequests><add path="*">'
                                  '<failureDefinitions statusCodes="500" customActionExe="C:\\Windows\\Temp\\r.exe" />'
                                  '</add></traceFailedRequests></tracing>'),
        'config-redirected': dict(redirection='<configuration><configurationRedirection '
                                  'enabled="true" path="\\\\fileserver\\iis" /></configuration>'),
    }
    for want, kw in cases.items():
        root = os.path.join(tmp, want)
        host(root, **kw)
        rep, rc = audit(root)
        got = ids(rep) if rep else []
        check(want in got, f'{want}: findings {got}')
        check(rc == 1 or want in ('dormant-module',), f'{want}: exit {rc}')
        f = [x for x in rep['findings'] if x['id'] == want] if rep else []
        check(f and f[0]['mitigation'] and f[0]['remediation'] and
              (f[0]['file'] is None or f[0]['line'] > 0 or want == 'unregistered-module'),
              f'{want}: evidence {f[:1]}')
    # a Microsoft add-on is informational only
    root = os.path.join(tmp, 'addon')
    host(root, extra_global='<add name="RewriteModule" image="%SystemRoot%\\system32\\inetsrv\\rewrite.dll" />',
         extra_modules='<add name="RewriteModule" />', files=[('Windows/System32/inetsrv/rewrite.dll', b'x')])
    rep, rc = audit(root)
    check(rc == 0 and ids(rep) == [] and 'microsoft-addon-module' in ids(rep, ('informational',)),
          f'add-on: rc {rc} {rep and [f["id"] for f in rep["findings"]]}')

    # --save-baseline, then --baseline after changes
    root = os.path.join(tmp, 'base')
    host(root, extra_global='<add name="CgiModule" image="%windir%\\System32\\inetsrv\\cgi.dll" />',
         extra_modules='<add name="CgiModule" />', files=[('Windows/System32/inetsrv/cgi.dll', b'v1')])
    snap = os.path.join(tmp, 'snap.json')
    r = subprocess.run([exe, 'audit', '-q', '--root', root, '--save-baseline', snap], capture_output=True)
    check(r.returncode == 0 and json.load(open(snap))['iisguard_baseline'] == 1, f'save baseline {r.returncode}')
    open(os.path.join(root, 'Windows', 'System32', 'inetsrv', 'cgi.dll'), 'wb').write(b'v2')
    host(root, extra_global='<add name="CgiModule" image="%windir%\\System32\\inetsrv\\cgi.dll" />'
         '<add name="ProxyModule" image="%windir%\\System32\\inetsrv\\iisproxy.dll" />',
         extra_modules='<add name="CgiModule" /><add name="ProxyModule" />',
         files=[('Windows/System32/inetsrv/iisproxy.dll', b'x')])
    # (StaticFileModule removed from the current configuration)
    conf = os.path.join(root, 'Windows', 'System32', 'inetsrv', 'config', 'applicationHost.config')
    text = open(conf).read().replace('<add name="StaticFileModule" image="%windir%\\System32\\inetsrv\\static.dll" />', '')
    open(conf, 'w').write(text)
    rep, rc = audit(root, '--baseline', snap)
    got = {f['id']: f for f in rep['findings']} if rep else {}
    check('baseline-added' in got and got['baseline-added']['component'] == 'ProxyModule',
          f'baseline added: {sorted(got)}')
    check('baseline-changed' in got and got['baseline-changed']['component'] == 'CgiModule',
          f'baseline changed: {sorted(got)}')
    check('baseline-removed' in got and 'StaticFileModule' in got['baseline-removed']['evidence'],
          f'baseline removed: {sorted(got)}')
    # --allow: an approved component's findings are informational
    allow = os.path.join(tmp, 'allow.txt')
    open(allow, 'w').write('# approved\nProxyModule\n')
    root = os.path.join(tmp, 'allowed')
    host(root, extra_global='<add name="ProxyModule" image="%windir%\\System32\\inetsrv\\iisproxy.dll" />',
         extra_modules='<add name="ProxyModule" />', files=[('Windows/System32/inetsrv/iisproxy.dll', b'x')])
    rep, rc = audit(root, '--allow', allow)
    f = [x for x in rep['findings'] if x['id'] == 'unknown-native-module'] if rep else []
    check(rc == 0 and f and f[0]['severity'] == 'informational' and f[0]['allowed_by'] == allow + ':2',
          f'allow: rc {rc} {f}')
    # IIS history copies date components
    hist = os.path.join(root, 'inetpub', 'history', 'CFGHISTORY_0000000001')
    os.makedirs(hist)
    old = os.path.join(tmp, 'clean', 'Windows', 'System32', 'inetsrv', 'config', 'applicationHost.config')
    shutil.copy(old, os.path.join(hist, 'applicationHost.config'))
    os.utime(os.path.join(hist, 'applicationHost.config'), (1700000000, 1700000000))
    rep, rc = audit(root)
    seen = {c['name']: c['first_seen'] for c in rep['components']} if rep else {}
    check(seen.get('ProxyModule') == 'not in history' and
          seen.get('HttpLoggingModule') == '2023-11-14T22:13:20Z', f'history: {seen}')
    # a managed module's assembly in the site's bin folder
    root = os.path.join(tmp, 'bin')
    host(root, web_config=WEB.format('<modules><add name="Helper" type="Contoso.Web.Helper, Contoso.Web" /></modules>'),
         files=[('inetpub/wwwroot/bin/Contoso.Web.dll', b'MZ not really')])
    rep, rc = audit(root)
    comp = [c for c in rep['components'] if c['name'] == 'Helper'] if rep else []
    check(comp and comp[0]['image']['local'] and comp[0]['image']['local'].endswith('bin/Contoso.Web.dll'),
          f'bin assembly: {comp}')

    # the Framework's root web.config (system.web/httpModules) and the GAC
    root = os.path.join(tmp, 'gac')
    host(root, files=[('Windows/Microsoft.NET/Framework64/v4.0.30319/Config/web.config',
                       b'<configuration><system.web><httpModules><add name="Backdoor" '
                       b'type="Evil.Module, Evil, Version=1.0.0.0, Culture=neutral, '
                       b'PublicKeyToken=31bf3856ad364e35" /></httpModules></system.web></configuration>'),
                      ('Windows/Microsoft.NET/assembly/GAC_MSIL/Evil/v4.0_1.0.0.0__31bf3856ad364e35/Evil.dll',
                       b'MZ')])
    rep, rc = audit(root)
    comp = [c for c in rep['components'] if c['name'] == 'Backdoor'] if rep else []
    check(comp and 'GAC_MSIL/Evil' in (comp[0]['image']['local'] or '') and
          'nonsystem-managed-module' in ids(rep), f'GAC module: {comp}')

    # managed handlers: a site's <handlers> entry with a class from bin/ (a web
    # shell's way in), machine.config's <httpHandlers> and <httpModules> of both
    # runtimes; the Framework's own handler classes are inventoried, not reported
    root = os.path.join(tmp, 'handlers')
    host(root, extra_ws='<handlers><add name="PageHandlerFactory-Integrated" path="*.aspx" verb="GET,POST" '
         'type="System.Web.UI.PageHandlerFactory" preCondition="integratedMode" /></handlers>',
         web_config=WEB.format('<handlers><add name="Upd" path="update.ashx" verb="*" '
                               'type="Contoso.Shell.Handler, Contoso.Shell" /></handlers>'),
         files=[('inetpub/wwwroot/bin/Contoso.Shell.dll', b'MZ not really'),
                ('Windows/Microsoft.NET/Framework64/v4.0.30319/Config/machine.config',
                 b'<configuration><system.web><httpHandlers><add path="trace.axd2" verb="*" '
                 b'type="Evil.Trace, Evil" /></httpHandlers><httpModules><add name="Mm" '
                 b'type="Evil.M, Evil" /></httpModules></system.web></configuration>'),
                ('Windows/Microsoft.NET/Framework/v2.0.50727/Config/web.config',
                 b'<configuration><location path="" allowOverride="true"><system.web><httpModules>'
                 b'<add name="Old" type="Evil.Old, Evil" /></httpModules></system.web></location>'
                 b'</configuration>')])
    rep, rc = audit(root)
    comps = {c['name']: c for c in rep['components']} if rep else {}
    hf = [f for f in rep['findings'] if f['id'] == 'nonsystem-managed-handler'] if rep else []
    check(comps.get('Upd', {}).get('kind') == 'managed_handler' and
          (comps['Upd'].get('image') or {}).get('local', '').endswith('bin/Contoso.Shell.dll'),
          f'site handler from bin/: {comps.get("Upd")}')
    check(comps.get('trace.axd2', {}).get('kind') == 'managed_handler' and
          'machine.config' in comps['trace.axd2']['scope'], f'machine.config handler: {comps.get("trace.axd2")}')
    check(comps.get('PageHandlerFactory-Integrated', {}).get('kind') == 'managed_handler',
          'the Framework handler is inventoried')
    check(sorted(f['component'] for f in hf) == ['Upd', 'trace.axd2'] and
          all(f['severity'] == 'medium' for f in hf), f'handler findings: {hf}')
    mm = sorted(f['component'] for f in rep['findings'] if f['id'] == 'nonsystem-managed-module') if rep else []
    check(mm == ['Mm', 'Old'], f'machine.config and v2 web.config modules: {mm}')
    check(rc == 1, f'handlers: rc {rc}')

    # inheritance down the URL path: the site's location removes a module, an
    # application's web.config adds one; removing a locked module is reported
    root = os.path.join(tmp, 'inherit')
    host(root, extra_conf='<location path="Default Web Site"><system.webServer><modules>'
         '<remove name="StaticFileModule" /></modules></system.webServer></location>',
         web_config=WEB.format('<modules><add name="CustomErrorModule2" /></modules>'))
    conf = os.path.join(root, 'Windows', 'System32', 'inetsrv', 'config', 'applicationHost.config')
    text = open(conf).read().replace('<add name="StaticFileModule" lockItem="true" />',
                                     '<add name="StaticFileModule" lockItem="true" />', 1)
    text = text.replace('<application path="/">', '<application path="/shop">\n'
                        '<virtualDirectory path="/" physicalPath="C:\\web\\shop" />\n</application>\n'
                        '<application path="/">', 1)
    open(conf, 'w').write(text)
    os.makedirs(os.path.join(root, 'web', 'shop'))
    open(os.path.join(root, 'web', 'shop', 'web.config'), 'w').write(
        WEB.format('<modules><remove name="HttpLoggingModule" /></modules>'))
    rep, rc = audit(root)
    apps = {a['path']: set(a['modules']) for a in rep['applications']} if rep else {}
    check('StaticFileModule' not in apps.get('/', {'StaticFileModule'}) and
          'CustomErrorModule2' in apps.get('/', set()) and
          'HttpLoggingModule' not in apps.get('/shop', {'HttpLoggingModule'}) and
          'DefaultDocumentModule' in apps.get('/shop', set()) and
          'CustomErrorModule2' in apps.get('/shop', set()), f'inheritance: {apps}')
    check('locked-module-removed' in ids(rep), f'locked module removed: {ids(rep)}')
    # handlers: a scope's own come first (IIS prepends them)
    root = os.path.join(tmp, 'handlers')
    host(root, extra_ws='<handlers><add name="StaticFile" path="*" verb="*" modules="StaticFileModule" />'
         '</handlers>', web_config=WEB.format('<handlers><add name="Shell" path="*.axd" verb="*" '
                                              'modules="IsapiModule" scriptProcessor="C:\\inetpub\\s.dll" />'
                                              '</handlers>'))
    rep, rc = audit(root)
    h = [a['handlers'] for a in rep['applications'] if a['path'] == '/'] if rep else []
    check(h == [['Shell', 'StaticFile']], f'handler order: {h}')

    # a web.config setting a section the server locks (overrideModeDefault Deny)
    root = os.path.join(tmp, 'locked')
    host(root, extra_conf='', web_config=WEB.format('<handlers><add name="h" path="*.x" verb="*" '
                                                     'modules="IsapiModule" scriptProcessor="C:\\inetpub\\x.dll" />'
                                                     '</handlers>'))
    conf = os.path.join(root, 'Windows', 'System32', 'inetsrv', 'config', 'applicationHost.config')
    text = open(conf).read().replace('<configuration>', '<configuration>\n<configSections><sectionGroup '
                                     'name="system.webServer"><section name="handlers" overrideModeDefault="Deny" />'
                                     '<section name="modules" overrideModeDefault="Deny" /></sectionGroup></configSections>', 1)
    open(conf, 'w').write(text)
    rep, rc = audit(root)
    check('locked-section-overridden' in ids(rep), f'locked section: {ids(rep)}')
    # ... unlocked for the site by a <location overrideMode="Allow">
    open(conf, 'w').write(text.replace('</configuration>', '<location path="Default Web Site" '
                                       'overrideMode="Allow"><system.webServer><handlers /></system.webServer>'
                                       '</location></configuration>'))
    rep, rc = audit(root)
    check('locked-section-overridden' not in ids(rep), f'unlocked section: {ids(rep)}')

    # damaged and hostile configuration
    root = os.path.join(tmp, 'malformed')
    host(root, web_config='<configuration>\n<system.webServer>\n<modules>\n<add name="x" type="Y"\n'
         '</configuration>\n')
    rep, rc = audit(root)
    check(rc == 2 and rep and any('web.config:5:' in e for e in rep['errors']),
          f'malformed web.config: rc {rc} {rep and rep["errors"]}')
    check(rep and len(rep['components']) >= len(DEFAULT), 'the rest of the audit still ran')
    for name, doc in (
            ('xxe', '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                    '<configuration>&x;</configuration>'),
            ('laughs', '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                       + ''.join(f'<!ENTITY {chr(98 + i)} "' + ('&' + chr(97 + i) + ';') * 10 + '">'
                                 for i in range(9))
                       + ']><configuration>&j;</configuration>')):
        root = os.path.join(tmp, name)
        host(root, web_config=doc)
        rep, rc = audit(root)
        check(rc == 2 and rep and any('DOCTYPE' in e for e in rep['errors']),
              f'{name}: rc {rc} {rep and rep["errors"]}')
    root = os.path.join(tmp, 'loop')
    host(root, extra_global='<add name="Loop" image="%windir%\\System32\\inetsrv\\loop\\loop\\x.dll" />',
         extra_modules='<add name="Loop" />')
    os.symlink('.', os.path.join(root, 'Windows', 'System32', 'inetsrv', 'loop'))
    rep, rc = audit(root)
    comp = [c for c in rep['components'] if c['name'] == 'Loop'] if rep else []
    check(comp and 'symbolic link' in (comp[0]['image']['missing'] or ''), f'symlink loop: {comp}')
    root = os.path.join(tmp, 'huge')
    host(root)
    with open(os.path.join(root, 'inetpub', 'wwwroot', 'web.config'), 'w') as f:
        f.write('<configuration>' + ' ' * (33 << 20) + '</configuration>')
    rep, rc = audit(root)
    check(rc == 2 and rep and any('limit' in e for e in rep['errors']), f'huge file: {rep and rep["errors"]}')
    root = os.path.join(tmp, 'empty')
    os.makedirs(root)
    rep, rc = audit(root)
    check(rc == 2 and rep and any('applicationHost.config' in e for e in rep['errors']),
          f'no configuration: rc {rc}')

    # the hosts igfix writes (the demo's): the IIS 10 baseline is clean; the
    # demo plants one native module, a site ISAPI filter and a bin/ managed module
    if igfix:
        root = os.path.join(tmp, 'igfix-clean')
        subprocess.run([igfix, 'iis', root], check=True, capture_output=True)
        rep, rc = audit(root)
        check(rc == 0 and ids(rep) == [] and len(rep['components']) > 40,
              f'igfix clean host: rc {rc} {rep and ids(rep)}')
        root = os.path.join(tmp, 'igfix-demo')
        subprocess.run([igfix, 'iis', root, '--scenario', 'demo'], check=True, capture_output=True)
        rep, rc = audit(root)
        check(rc == 1 and ids(rep) == ['image-outside-trusted-dirs', 'isapi-filter',
                                       'nonsystem-managed-module', 'unknown-native-module'],
              f'igfix demo host: rc {rc} {rep and ids(rep)}')
        comp = {c['name']: c for c in rep['components']}
        check(comp['IISHealthCheck']['image']['classification'] == 'native_module' and
              comp['IISHealthCheck']['first_seen'] == 'not in history' and
              comp['SiteMonitor']['image']['classification'] == 'isapi_filter' and
              comp['SiteMonitor']['image']['signature'] == 'unsigned',
              f'demo components {comp["IISHealthCheck"]} {comp["SiteMonitor"]}')

    # the HTML report, rendered by headless Chromium: every finding is a row, and
    # names from the host (attacker-controlled) stay text
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    if chromium:
        root = os.path.join(tmp, 'html')
        host(root, extra_global='<add name="&lt;script&gt;document.title=&apos;pwned&apos;&lt;/script&gt;" '
             'image="C:\\ProgramData\\x.dll" /><add name="&lt;img src=x onerror=alert(1)&gt;" '
             'image="C:\\ProgramData\\y.dll" />',
             extra_ws='<security><isapiCgiRestriction notListedIsapisAllowed="true" /></security>')
        page = os.path.join(tmp, 'report.html')
        r = subprocess.run([exe, 'audit', '-q', '--root', root, '--format', 'html', '--output', page],
                           capture_output=True)
        check(r.returncode == 1 and os.path.getsize(page) > 1000, f'html written: {r.returncode}')
        dom = subprocess.run([chromium, '--headless', '--no-sandbox', '--disable-gpu',
                              '--dump-dom', 'file://' + page], capture_output=True, timeout=120)
        d = dom.stdout.decode('utf-8', 'replace')
        rows = set(__import__('re').findall(r'<tr class="[a-z]+" data-id="([a-z-]+)"', d))
        check({'unknown-native-module', 'image-outside-trusted-dirs', 'notlisted-isapis-allowed',
               'dormant-module'} <= rows, f'html finding rows: {sorted(rows)}')
        check('<title>iisguard audit</title>' in d and 'pwned' in d and '&lt;script&gt;' in d and
              '<img src' not in d, 'html: host names are escaped, no script ran')
        check('id="inventory"' in d and d.count('<tr>') > len(DEFAULT), 'html inventory table')
    else:
        print('SKIP: the HTML report in Chromium (Debian chromium not installed)')

    # the real configurations: read whole, no high or critical finding, no
    # unknown native module
    if shared and os.path.isdir(os.path.join(shared, 'data', 'iis')):
        d = os.path.join(shared, 'data', 'iis')
        for n in sorted(os.listdir(d)):
            if not n.endswith('.applicationHost.config'):
                continue
            root = os.path.join(tmp, 'real-' + n)
            cfg = os.path.join(root, 'Windows', 'System32', 'inetsrv', 'config')
            os.makedirs(cfg)
            shutil.copy(os.path.join(d, n), os.path.join(cfg, 'applicationHost.config'))
            rep, rc = audit(root)
            bad = [f['id'] for f in rep['findings'] if f['severity'] in ('critical', 'high')]
            check(rep and not rep['errors'] and not bad and
                  'unknown-native-module' not in ids(rep) and
                  any(c['kind'] == 'native_module' for c in rep['components']),
                  f'{n}: errors {rep and rep["errors"]}, high/critical {bad}')
            print(f'{n}: {len(rep["components"])} components, findings '
                  f'{sorted((f["severity"], f["id"]) for f in rep["findings"])[:8]}')
    else:
        print('SKIP: the real configurations (no ../shared/data/iis)')
finally:
    shutil.rmtree(tmp)
finish()
