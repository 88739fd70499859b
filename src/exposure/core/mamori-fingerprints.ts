/**
 * Mamori's own small fingerprint set for cameras, DVRs/NVRs and home routers, in Recog's XML
 * format so the same engine runs it. Written from public facts (vendor manuals, the banners
 * these devices send as published in vendor documentation and public scan reports); each has
 * examples so the conformance test covers it too. Not exhaustive: Recog's databases do the rest.
 */

const HTTP_SERVER = `<?xml version="1.0" encoding="UTF-8"?>
<fingerprints matches="mamori.http_server" protocol="http" database_type="service">
  <fingerprint pattern="^(?:DVRDVS|DNVRS|App|Hikvision)-Webs$" flags="REG_ICASE">
    <description>Hikvision camera or NVR embedded web server</description>
    <example>DNVRS-Webs</example>
    <example>App-webs</example>
    <param pos="0" name="hw.vendor" value="Hikvision"/>
    <param pos="0" name="hw.device" value="IP Camera"/>
    <param pos="0" name="service.product" value="Hikvision Web Server"/>
  </fingerprint>
  <fingerprint pattern="^uc-httpd ([\\d.]+)$">
    <description>Xiongmai (XMEye) DVR/NVR web server</description>
    <example service.version="1.0.0">uc-httpd 1.0.0</example>
    <param pos="0" name="hw.vendor" value="Xiongmai"/>
    <param pos="0" name="hw.device" value="DVR"/>
    <param pos="0" name="service.product" value="uc-httpd"/>
    <param pos="1" name="service.version"/>
  </fingerprint>
  <fingerprint pattern="^Mamori-Emulated-Camera/([\\d.]+) \\(([^)]+)\\)$">
    <description>Mamori's emulated camera (tests only)</description>
    <example service.version="1.0" hw.product="LabCam 100">Mamori-Emulated-Camera/1.0 (LabCam 100)</example>
    <param pos="0" name="hw.vendor" value="Mamori Lab"/>
    <param pos="0" name="hw.device" value="IP Camera"/>
    <param pos="0" name="service.product" value="LabCam web UI"/>
    <param pos="1" name="service.version"/>
    <param pos="2" name="hw.product"/>
  </fingerprint>
</fingerprints>`;

const HTTP_TITLE = `<?xml version="1.0" encoding="UTF-8"?>
<fingerprints matches="mamori.html_title" protocol="http" database_type="service">
  <fingerprint pattern="^NETSurveillance WEB$">
    <description>Xiongmai (XMEye) NETSurveillance DVR web UI</description>
    <example>NETSurveillance WEB</example>
    <param pos="0" name="hw.vendor" value="Xiongmai"/>
    <param pos="0" name="hw.device" value="DVR"/>
    <param pos="0" name="hw.product" value="NETSurveillance"/>
  </fingerprint>
  <fingerprint pattern="^IPCam Client$">
    <description>Foscam IP camera web UI</description>
    <example>IPCam Client</example>
    <param pos="0" name="hw.vendor" value="Foscam"/>
    <param pos="0" name="hw.device" value="IP Camera"/>
  </fingerprint>
  <fingerprint pattern="^WEB SERVICE$">
    <description>Dahua camera or DVR web UI</description>
    <example>WEB SERVICE</example>
    <param pos="0" name="hw.vendor" value="Dahua"/>
    <param pos="0" name="hw.device" value="IP Camera"/>
  </fingerprint>
  <fingerprint pattern="^RouterOS router configuration page$">
    <description>MikroTik RouterOS WebFig</description>
    <example>RouterOS router configuration page</example>
    <param pos="0" name="hw.vendor" value="MikroTik"/>
    <param pos="0" name="hw.device" value="Router"/>
    <param pos="0" name="os.product" value="RouterOS"/>
  </fingerprint>
  <fingerprint pattern="^LabCam (\\d+) - (?:Live View|Login)$">
    <description>Mamori's emulated camera (tests only)</description>
    <example hw.product="LabCam 100">LabCam 100 - Live View</example>
    <param pos="0" name="hw.vendor" value="Mamori Lab"/>
    <param pos="0" name="hw.device" value="IP Camera"/>
    <param pos="1" name="hw.model"/>
    <param pos="0" name="hw.product" value="LabCam {hw.model}"/>
  </fingerprint>
</fingerprints>`;

const HTTP_WWWAUTH = `<?xml version="1.0" encoding="UTF-8"?>
<fingerprints matches="mamori.http_wwwauth" protocol="http" database_type="service">
  <fingerprint pattern="realm=&quot;AXIS_([0-9A-F]{12})&quot;" flags="REG_ICASE">
    <description>Axis network camera (realm carries the MAC address)</description>
    <example hw.serial="ACCC8E000000">Digest realm="AXIS_ACCC8E000000", nonce="x"</example>
    <param pos="0" name="hw.vendor" value="Axis"/>
    <param pos="0" name="hw.device" value="IP Camera"/>
    <param pos="1" name="hw.serial"/>
  </fingerprint>
  <fingerprint pattern="realm=&quot;TP-LINK ([^&quot;]+)&quot;">
    <description>TP-Link home router</description>
    <example hw.product="Wireless N Router WR840N">Basic realm="TP-LINK Wireless N Router WR840N"</example>
    <param pos="0" name="hw.vendor" value="TP-Link"/>
    <param pos="0" name="hw.device" value="Router"/>
    <param pos="1" name="hw.product"/>
  </fingerprint>
  <fingerprint pattern="realm=&quot;NETGEAR ([A-Z0-9]+)&quot;">
    <description>Netgear home router</description>
    <example hw.product="R7000">Basic realm="NETGEAR R7000"</example>
    <param pos="0" name="hw.vendor" value="Netgear"/>
    <param pos="0" name="hw.device" value="Router"/>
    <param pos="1" name="hw.product"/>
  </fingerprint>
</fingerprints>`;

const RTSP_SERVER = `<?xml version="1.0" encoding="UTF-8"?>
<fingerprints matches="mamori.rtsp_server" protocol="rtsp" database_type="service">
  <fingerprint pattern="^H264DVR ([\\d.]+)$">
    <description>Xiongmai (XMEye) DVR RTSP server</description>
    <example service.version="1.0">H264DVR 1.0</example>
    <param pos="0" name="hw.vendor" value="Xiongmai"/>
    <param pos="0" name="hw.device" value="DVR"/>
    <param pos="0" name="service.product" value="H264DVR RTSP"/>
    <param pos="1" name="service.version"/>
  </fingerprint>
  <fingerprint pattern="^Mamori-Emulated-RTSP/([\\d.]+)$">
    <description>Mamori's emulated RTSP camera (tests only)</description>
    <example service.version="1.0">Mamori-Emulated-RTSP/1.0</example>
    <param pos="0" name="hw.vendor" value="Mamori Lab"/>
    <param pos="0" name="hw.device" value="IP Camera"/>
    <param pos="0" name="service.product" value="LabCam RTSP"/>
    <param pos="1" name="service.version"/>
  </fingerprint>
</fingerprints>`;

const TELNET = `<?xml version="1.0" encoding="UTF-8"?>
<fingerprints matches="mamori.telnet_banner" protocol="telnet" database_type="service">
  <fingerprint pattern="^(?:\\r|\\n)*(\\S+) login:\\s*$">
    <description>Embedded Linux (BusyBox) telnet login, typical of DVRs and cameras</description>
    <example host.name="(none)">(none) login: </example>
    <example host.name="LocalHost">LocalHost login:</example>
    <param pos="0" name="os.family" value="Linux"/>
    <param pos="0" name="service.product" value="BusyBox telnetd"/>
    <param pos="1" name="host.name"/>
  </fingerprint>
</fingerprints>`;

const ONVIF = `<?xml version="1.0" encoding="UTF-8"?>
<fingerprints matches="mamori.onvif_device" protocol="onvif" database_type="service">
  <fingerprint pattern="^Manufacturer=(.+?);Model=(.+?);FirmwareVersion=(.*)$">
    <description>ONVIF GetDeviceInformation answer</description>
    <example hw.vendor="Mamori Lab" hw.product="LabCam 100" hw.version="1.0">Manufacturer=Mamori Lab;Model=LabCam 100;FirmwareVersion=1.0</example>
    <param pos="0" name="hw.device" value="IP Camera"/>
    <param pos="1" name="hw.vendor"/>
    <param pos="2" name="hw.product"/>
    <param pos="3" name="hw.version"/>
  </fingerprint>
</fingerprints>`;

/** Mamori's databases, each in Recog's XML format. */
export const MAMORI_FINGERPRINTS: readonly { name: string; xml: string }[] = [
  { name: 'mamori_http_server', xml: HTTP_SERVER },
  { name: 'mamori_http_title', xml: HTTP_TITLE },
  { name: 'mamori_http_wwwauth', xml: HTTP_WWWAUTH },
  { name: 'mamori_rtsp_server', xml: RTSP_SERVER },
  { name: 'mamori_telnet', xml: TELNET },
  { name: 'mamori_onvif', xml: ONVIF },
];

/**
 * Factory-default credentials documented by the vendors (manuals and quick-start guides), for
 * the audit. Keyed by `hw.vendor`, or a word of the product or page title (GoAhead, IPCAM); only
 * these (and nmap's entries for the vendor) are tried, in order, stopping at the first success.
 */
export const FACTORY_DEFAULTS: Readonly<
  Record<string, readonly { user: string; password: string; source: string }[]>
> = {
  Hikvision: [
    { user: 'admin', password: '12345', source: 'Hikvision quick start (pre-2016 firmware)' },
  ],
  Dahua: [
    { user: 'admin', password: 'admin', source: 'Dahua quick start (older firmware)' },
    { user: '888888', password: '888888', source: 'Dahua quick start (older firmware)' },
    { user: '666666', password: '666666', source: 'Dahua quick start (older firmware)' },
  ],
  Axis: [{ user: 'root', password: 'pass', source: 'Axis installation guide (pre-5.x firmware)' }],
  Foscam: [{ user: 'admin', password: '', source: 'Foscam user manual' }],
  Xiongmai: [{ user: 'admin', password: '', source: 'XMEye/NETSurveillance manual' }],
  // GoAhead-Webs is the embedded server of many white-label cameras (Foscam clones); their
  // manuals ship an empty admin password, later firmware admin/admin, some OEMs 123456/888888.
  GoAhead: [
    {
      user: 'admin',
      password: '',
      source: 'GoAhead-based IP camera manuals (Foscam-clone firmware)',
    },
    {
      user: 'admin',
      password: 'admin',
      source: 'GoAhead-based IP camera manuals (later firmware)',
    },
    { user: 'admin', password: '123456', source: 'GoAhead-based IP camera OEM manuals' },
  ],
  Hipcam: [
    { user: 'admin', password: 'admin', source: 'Hipcam (HiSilicon IPCAM firmware) quick start' },
    { user: 'user', password: 'user', source: 'Hipcam (HiSilicon IPCAM firmware) quick start' },
    { user: 'guest', password: 'guest', source: 'Hipcam (HiSilicon IPCAM firmware) quick start' },
  ],
  IPCAM: [
    { user: 'admin', password: '', source: 'generic "IPCAM" web client manuals' },
    { user: 'admin', password: 'admin', source: 'generic "IPCAM" web client manuals' },
    { user: 'admin', password: '888888', source: 'generic "IPCAM" web client manuals' },
  ],
  'TP-Link': [{ user: 'admin', password: 'admin', source: 'TP-Link router label' }],
  Netgear: [{ user: 'admin', password: 'password', source: 'Netgear router manual' }],
  MikroTik: [{ user: 'admin', password: '', source: 'MikroTik RouterOS manual' }],
  'Mamori Lab': [{ user: 'admin', password: 'labcam', source: 'the emulated LabCam (tests only)' }],
};
