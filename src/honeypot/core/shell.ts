/**
 * The emulated BusyBox shell behind the telnet login: it answers the usual botnet probes
 * (`enable`, `system`, `shell`, `sh`, `/bin/busybox XXXX`, `cat /proc/mounts`, `echo -e`)
 * plausibly and turns download commands (wget, tftp, curl, ftpget) into recorded attempts.
 * Nothing is ever executed or fetched: this is string in, string out. Pure.
 */

export interface ShellEffect {
  /** One line per simple command as typed (bounded by the caller). */
  command: string;
  /** A download the attacker asked for (never performed). */
  download?: { tool: string; url: string };
  /** The command tried to run or stage malware (exec of a dropped file, chmod +x, ELF echo). */
  malware: boolean;
}

export interface ShellResult {
  output: string;
  effects: ShellEffect[];
  exit: boolean;
}

const HOSTNAME = 'IPCAM';

const PROC_MOUNTS = [
  'rootfs / rootfs rw 0 0',
  '/dev/root / squashfs ro,relatime 0 0',
  'proc /proc proc rw,relatime 0 0',
  'sysfs /sys sysfs rw,relatime 0 0',
  'tmpfs /dev tmpfs rw,relatime,size=2048k,mode=755 0 0',
  'devpts /dev/pts devpts rw,relatime,mode=600 0 0',
  'tmpfs /tmp tmpfs rw,relatime,size=8192k 0 0',
  '/dev/mtdblock3 /mnt/mtd jffs2 rw,relatime 0 0',
  '',
].join('\r\n');

const CPUINFO = [
  'Processor\t: ARMv5TEJ Processor rev 5 (v5l)',
  'BogoMIPS\t: 218.72',
  'Features\t: swp half thumb fastmult edsp java',
  'CPU implementer\t: 0x41',
  'CPU architecture: 5TEJ',
  'Hardware\t: hi3518',
  '',
].join('\r\n');

const BUSYBOX_BANNER =
  'BusyBox v1.20.2 (2016-05-17 14:27:11 CST) multi-call binary.\r\n' +
  'Usage: busybox [function] [arguments]...\r\n';

const APPLETS = new Set([
  'cat',
  'cd',
  'chmod',
  'cp',
  'echo',
  'ftpget',
  'kill',
  'ls',
  'mkdir',
  'mount',
  'ps',
  'rm',
  'sh',
  'tftp',
  'uname',
  'wget',
  'free',
  'ifconfig',
  'nc',
]);

/** Split a line into simple commands on ; && || | and newlines (quotes respected). */
export function splitCommands(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      cur += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      cur += ch;
      continue;
    }
    if (ch === ';' || ch === '\n' || ch === '|' || (ch === '&' && line[i + 1] === '&')) {
      if (ch === '&' || (ch === '|' && line[i + 1] === '|')) i++;
      if (cur.trim()) out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Split one simple command into words (single and double quotes, no expansion). */
export function words(cmd: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (let m = re.exec(cmd); m; m = re.exec(cmd)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

/** `echo -e` escapes: \xNN, \NNN octal, \n, \t, \\. */
function echoE(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{1,2}|0?[0-7]{1,3}|[ntr\\])/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    if (e === 'n') return '\n';
    if (e === 't') return '\t';
    if (e === 'r') return '\r';
    if (e === '\\') return '\\';
    return String.fromCharCode(Number.parseInt(e, 8));
  });
}

function downloadOf(argv: string[]): { tool: string; url: string } | undefined {
  const tool = argv[0]!.split('/').pop()!;
  const rest = argv.slice(1);
  if (tool === 'wget' || tool === 'curl') {
    const url = rest.find((a) => /^(https?|ftp):\/\//i.test(a) || /^[\w.-]+(:\d+)?\//.test(a));
    return { tool, url: url ?? rest.filter((a) => !a.startsWith('-')).join(' ') };
  }
  if (tool === 'tftp') {
    // tftp -g -l local -r remote host [port]
    const r = rest.indexOf('-r');
    const remote = r >= 0 ? rest[r + 1] : undefined;
    const host = rest.filter(
      (a, i) => !a.startsWith('-') && rest[i - 1] !== '-r' && rest[i - 1] !== '-l',
    )[0];
    return { tool, url: `tftp://${host ?? '?'}/${remote ?? ''}` };
  }
  if (tool === 'ftpget') {
    const plain = rest.filter((a) => !a.startsWith('-'));
    return { tool, url: `ftp://${plain[0] ?? '?'}/${plain[2] ?? plain[1] ?? ''}` };
  }
  return undefined;
}

/**
 * Run one input line in the emulated shell.
 * @example runShellLine('/bin/busybox MIRAI').output === 'MIRAI: applet not found\r\n'
 */
export function runShellLine(line: string): ShellResult {
  const effects: ShellEffect[] = [];
  let output = '';
  let exit = false;
  for (const command of splitCommands(line)) {
    const redirect = /\s(>>?)\s*(\S+)\s*$/.exec(command);
    const argv = words(redirect ? command.slice(0, redirect.index) : command);
    if (argv.length === 0) continue;
    let name = argv[0]!;
    let args = argv.slice(1);
    if (name === '/bin/busybox' || name === 'busybox') {
      if (args.length === 0) {
        output += BUSYBOX_BANNER;
        effects.push({ command, malware: false });
        continue;
      }
      if (!APPLETS.has(args[0]!)) {
        output += `${args[0]}: applet not found\r\n`;
        effects.push({ command, malware: false });
        continue;
      }
      name = args[0]!;
      args = args.slice(1);
    }
    const base = name.split('/').pop()!;
    const dl = downloadOf([base, ...args]);
    let malware = false;
    let text = '';
    if (dl && ['wget', 'curl', 'tftp', 'ftpget'].includes(base)) {
      effects.push({ command, download: dl, malware: true });
      text =
        base === 'tftp'
          ? 'tftp: timeout\r\n'
          : `Connecting to ${dl.url.replace(/^\w+:\/\//, '').split('/')[0]}\r\n${base}: download timed out\r\n`;
      output += text;
      continue;
    }
    switch (base) {
      case 'enable':
      case 'system':
      case 'shell':
      case 'sh':
      case 'linuxshell':
      case 'cd':
      case 'rm':
      case 'mkdir':
      case 'kill':
      case 'export':
      case 'true':
        break;
      case 'exit':
      case 'logout':
      case 'quit':
        exit = true;
        break;
      case 'cat':
        if (args[0] === '/proc/mounts') text = PROC_MOUNTS;
        else if (args[0] === '/proc/cpuinfo') text = CPUINFO;
        else if (args[0] === '/bin/echo' || args[0] === '/bin/busybox')
          text = '\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00\r\n';
        else if (args[0]) text = `cat: can't open '${args[0]}': No such file or directory\r\n`;
        break;
      case 'echo': {
        const e = args[0] === '-e' || args[0] === '-ne';
        const body = (e ? args.slice(1) : args).join(' ');
        const decoded = e ? echoE(body) : body;
        if (decoded.startsWith('\x7fELF')) malware = true;
        if (!redirect) text = `${decoded}${args[0] === '-ne' ? '' : '\r\n'}`;
        break;
      }
      case 'chmod':
        if (args.some((a) => /^(\+x|[0-7]*7[0-7]*|777)$/.test(a))) malware = true;
        break;
      case 'uname':
        text = args.includes('-a')
          ? `Linux ${HOSTNAME} 3.0.8 #1 Wed May 18 10:24:54 CST 2016 armv5tejl GNU/Linux\r\n`
          : 'Linux\r\n';
        break;
      case 'ps':
        text =
          '  PID USER       VSZ STAT COMMAND\r\n    1 root      1424 S    init\r\n  412 root      2936 S    /mnt/mtd/ipcam\r\n  498 root      1432 S    telnetd\r\n';
        break;
      case 'ls':
        text = 'bin   dev   etc   home  lib   mnt   proc  root  sbin  sys   tmp   usr   var\r\n';
        break;
      case 'free':
        text =
          '              total         used         free       shared      buffers\r\nMem:         59164        41200        17964            0         1760\r\n';
        break;
      case 'nc':
        text = '';
        break;
      default:
        if (name.startsWith('./') || name.startsWith('/tmp/') || name.startsWith('/var/')) {
          malware = true;
          text = `-sh: ${name}: not found\r\n`;
        } else text = `-sh: ${name}: not found\r\n`;
    }
    output += text;
    effects.push({ command, malware });
  }
  return { output, effects, exit };
}

export const SHELL_PROMPT = `[root@${HOSTNAME} ~]# `;
