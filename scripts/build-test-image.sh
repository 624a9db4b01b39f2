#!/usr/bin/env bash
# Builds <repo>/data/images/vps-test.qcow2 (or $1/vps-test.qcow2; FORCE=1 rebuilds even when the .stamp is current): a tiny
# x86_64 guest for the QEMU driver's tests, made only from Debian packages fetched with `apt-get download` and unpacked
# with `dpkg-deb -x` (linux-image-*-cloud-amd64, busybox-static, dropbear-bin, qemu-guest-agent + their libs). Disk: MBR,
# partition 1 FAT16 with syslinux, vmlinuz and an initramfs holding the OS (runs from RAM; SeaBIOS boots it, no -kernel
# needed), partition 2 ext4 with a journal, label `data`, 24 MiB (mkfs.ext4 on the host): mounted read-write at /data, the
# only place where what the guest writes reaches its disk. busybox init: rcS loads virtio/CD-ROM/ACPI-button modules,
# mounts /data, starts qemu-ga (-m virtio-serial on the /dev/vportNpM named org.qemu.guest_agent.0; its fsfreeze freezes
# /data), applies the NoCloud seed, then dropbear :22 (root, key only), acpid (power button -> poweroff); Ctrl-Alt-Del ->
# reboot; getty + login on ttyS0 (root's password locked: the prompt lets no one in). Poweroff and reboot run rcK,
# which thaws and unmounts /data (stopping what holds it busy) so it is left clean.
# Serial (console=ttyS0,115200) markers: "vps-test: data mounted", "vps-test: guest agent ready", "vps-test: seed applied
# hostname=<name>", "vps-test: ssh ready", "vps-test: data unmounted". NoCloud subset: seed = fs labelled cidata/CIDATA
# (ISO9660 or FAT, virtio disk or CD-ROM); meta-data instance-id, local-hostname, public-keys; user-data (#cloud-config)
# hostname, fqdn, preserve_hostname, prefer_fqdn_over_hostname, ssh_authorized_keys, users[name: root].ssh_authorized_keys;
# network-config v2 ethernets: match macaddress/name, set-name, dhcp4, addresses, gateway4/6, routes, nameservers, mtu
# (none: DHCP on eth0). YAML: yaml.awk.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_dir=${1:-$repo_root/data/images}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
image="$out_dir/vps-test.qcow2"
stamp="$image.stamp"

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_update() {
  if [ "$apt_updated" -eq 0 ]; then
    $sudo apt-get update -qq
    apt_updated=1
  fi
}

# --- host build tools -------------------------------------------------------------------------------------------
missing=()
command -v qemu-img >/dev/null || missing+=(qemu-utils)
command -v syslinux >/dev/null || missing+=(syslinux)
[ -f /usr/lib/syslinux/mbr/mbr.bin ] || missing+=(syslinux-common)
command -v mcopy >/dev/null || missing+=(mtools)
command -v mkfs.vfat >/dev/null || missing+=(dosfstools)
command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
command -v cpio >/dev/null || missing+=(cpio)
command -v gzip >/dev/null || missing+=(gzip)
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-test-image: installing host tools ${missing[*]}"
  apt_update
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- resolve and fetch the guest's packages ----------------------------------------------------------------------
candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ && !done { print $2; done = 1 }'; }
# The shared libraries of dropbear-bin and qemu-guest-agent (and theirs); the build checks below that every NEEDED
# soname is satisfied.
lib_pkgs=(libc6 libcrypt1 libtomcrypt1 libtommath1 libgmp10 zlib1g libglib2.0-0 libpcre2-8-0 libnuma1 libudev1 liburing2)
resolve() {
  kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ && !done { print $2; done = 1 }')
  [ -n "$kernel_pkg" ] || { echo "build-test-image: cannot resolve linux-image-cloud-amd64" >&2; exit 1; }
  pkgs=("$kernel_pkg" busybox-static dropbear-bin qemu-guest-agent "${lib_pkgs[@]}")
  want_stamp=$(
    sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1
    for p in "${pkgs[@]}"; do echo "$p=$(candidate "$p")"; done
  )
}
case "$(candidate linux-image-cloud-amd64)" in "" | "(none)") apt_update ;; esac
resolve
if [ "${FORCE:-0}" != 1 ] && [ -s "$image" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ]; then
  echo "build-test-image: $image is up to date"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vps-test-image.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
mkdir debs x root
apt_opts=(-q)
[ "$(id -u)" -eq 0 ] && apt_opts+=(-o APT::Sandbox::User=root)
download() { (cd debs && rm -f ./*.deb && apt-get "${apt_opts[@]}" download "${pkgs[@]}" >/dev/null); }
if ! download; then
  # Stale package lists (a superseded kernel or security update): refresh once and retry.
  [ "$apt_updated" -eq 0 ] || exit 1
  apt_update
  resolve
  download
fi
for d in debs/*.deb; do dpkg-deb -x "$d" x; done

# --- guest root: merged /bin, busybox applets, dropbear + libraries ----------------------------------------------
R=$work/root
mkdir -p "$R"/{bin,lib/x86_64-linux-gnu,lib64,etc/init.d,etc/acpi/PWRF,etc/dropbear,usr/lib/vps-test,usr/share/udhcpc}
mkdir -p "$R"/{dev,proc,sys,run,tmp,mnt,data,var/log,root}
ln -s bin "$R/sbin"
ln -s ../bin "$R/usr/bin"
ln -s ../bin "$R/usr/sbin"
ln -s /run "$R/var/run"
chmod 700 "$R/root"
chmod 1777 "$R/tmp"
cp x/bin/busybox "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do
  [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"
done
ln -s bin/busybox "$R/init"
cp x/usr/sbin/dropbear x/usr/bin/dropbearkey x/usr/sbin/qemu-ga "$R/bin/"

libdirs="$work/x/lib/x86_64-linux-gnu:$work/x/usr/lib/x86_64-linux-gnu"
ldso=$work/x/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
cp -L "$ldso" "$R/lib64/ld-linux-x86-64.so.2"
ln -s ../../lib64/ld-linux-x86-64.so.2 "$R/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
for bin in dropbear dropbearkey qemu-ga; do
  listing=$("$ldso" --library-path "$libdirs" --list "$R/bin/$bin")
  if grep -q 'not found' <<<"$listing"; then
    echo "build-test-image: $bin has unresolved libraries:" >&2
    echo "$listing" >&2
    exit 1
  fi
  awk '$2 == "=>" && $3 ~ /^\// && $1 !~ /ld-linux/ { print $1, $3 }' <<<"$listing" | while read -r soname path; do
    case "$path" in "$work"/x/*) ;; *) echo "build-test-image: $soname resolved outside the guest packages: $path" >&2; exit 1 ;; esac
    cp -L "$path" "$R/lib/x86_64-linux-gnu/$soname"
  done
done

# --- kernel and modules -------------------------------------------------------------------------------------------
kver=${kernel_pkg#linux-image-}
cp "x/boot/vmlinuz-$kver" "$work/vmlinuz"
# Built in (config =y) and so not listed: ACPI, i8042/atkbd, af_packet, IPv6, 8250 serial console, devtmpfs.
# Listed in load order; modprobe pulls dependencies from modules.dep (virtio, virtio_ring, virtio_pci_*_dev,
# failover, net_failover, cdrom, fat; scsi_common, scsi_mod, libata for the late set). The late set (CD-ROM on
# IDE or virtio-scsi, SCSI disks) is loaded only when no cidata filesystem shows up on a virtio disk.
# virtio_console carries the guest agent's virtio-serial port.
modules_early="virtio_pci virtio_blk virtio_net virtio_rng virtio_console isofs vfat nls_cp437 nls_ascii nls_utf8 button evdev"
modules_late="virtio_scsi sr_mod sd_mod ata_piix"
mdir="lib/modules/$kver"
# ext4 for /data (with jbd2, mbcache and the crc modules as its dependencies) is built into Debian's cloud kernel;
# a kernel that has it as a module loads it early.
grep -q '/ext4\.ko$' "x/$mdir/modules.builtin" || modules_early="$modules_early ext4"
modules="$modules_early $modules_late"
"x/bin/busybox" depmod -b x "$kver"
needed=$(
  for m in $modules; do
    awk -v m="$m" -F': ?' '{ n = $1; sub(/.*\//, "", n); sub(/\.ko$/, "", n); gsub(/-/, "_", n)
                             if (n == m) { print $1; if ($2 != "") { c = split($2, d, " "); for (i = 1; i <= c; i++) print d[i] } } }' \
      "x/$mdir/modules.dep" | grep . || { echo "build-test-image: module $m not in $kernel_pkg" >&2; exit 1; }
  done | sort -u
)
for f in $needed; do
  mkdir -p "$R/$mdir/$(dirname "$f")"
  cp "x/$mdir/$f" "$R/$mdir/$f"
done
cp "x/$mdir/modules.builtin" "x/$mdir/modules.order" "$R/$mdir/"
"x/bin/busybox" depmod -b "$R" "$kver"
echo "$modules_early" | tr ' ' '\n' >"$R/etc/modules"
echo "$modules_late" | tr ' ' '\n' >"$R/etc/modules.late"

# --- configuration ----------------------------------------------------------------------------------------------
cat >"$R/etc/passwd" <<'EOF'
root:*:0:0:root:/root:/bin/sh
EOF
cat >"$R/etc/group" <<'EOF'
root:x:0:
tty:x:5:
EOF
echo /bin/sh >"$R/etc/shells"
echo localhost >"$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
: >"$R/etc/resolv.conf"
cat >"$R/etc/profile" <<'EOF'
export PATH=/bin
PS1='\h:\w\$ '
EOF

cat >"$R/etc/inittab" <<'EOF'
# busybox init (PID 1). sysinit finishes (modules, seed, network, host keys) before anything else starts.
::sysinit:/etc/init.d/rcS
::respawn:/bin/dropbear -F -E -s -g -R -p 22 -r /etc/dropbear/dropbear_ed25519_host_key -r /etc/dropbear/dropbear_ecdsa_host_key
::respawn:/bin/acpid -f -c /etc/acpi -l /run/acpid.log -p /run/acpid.pid
::once:/etc/init.d/ssh-ready
# A login prompt on the serial console (the control plane's serial console shows it). root's password is locked
# (`*`), so it lets no one in until a password is set over SSH (`passwd`): a prompt, never an open shell.
ttyS0::respawn:/bin/getty -L 115200 ttyS0 vt100
# The kernel sends SIGINT to PID 1 on Ctrl-Alt-Del (init turns the hard reboot off at start).
::ctrlaltdel:/bin/reboot
::shutdown:/etc/init.d/rcK
EOF

cat >"$R/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
# busybox acpid runs this on the ACPI power button (QEMU system_powerdown).
echo "vps-test: ACPI power button, powering off" >/dev/console
exec /bin/poweroff
EOF

cat >"$R/etc/init.d/ssh-ready" <<'EOF'
#!/bin/sh
i=0
until netstat -ltn 2>/dev/null | grep -q ':22 '; do
  i=$((i + 1))
  if [ "$i" -gt 600 ]; then echo "vps-test: dropbear is not listening"; exit 1; fi
  sleep 0.1
done
echo "vps-test: ssh ready"
EOF

cat >"$R/etc/init.d/rcK" <<'EOF'
#!/bin/sh
# Run by busybox init on poweroff and reboot before it kills every process; init itself neither syncs nor
# unmounts, so /data is unmounted here to leave its journal clean.
echo "vps-test: shutting down"
[ -f /run/qemu-ga.pid ] && kill "$(cat /run/qemu-ga.pid)" 2>/dev/null
for p in /run/udhcpc.*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
umount /run/seed 2>/dev/null
sync
if grep -q ' /data ' /proc/mounts; then
  # A freeze the agent left would block the unmount (and every writer).
  fsfreeze --unfreeze /data 2>/dev/null
  i=0
  until umount /data 2>/dev/null; do
    i=$((i + 1))
    [ $i -gt 20 ] && break
    # Busy: stop the processes with a file or their working directory on it, then try again.
    for p in /proc/[0-9]*; do
      pid=${p#/proc/}
      { [ "$pid" = 1 ] || [ "$pid" = $$ ]; } && continue
      case "$(readlink "$p/cwd" 2>/dev/null) $(ls -l "$p/fd" 2>/dev/null)" in
        /data* | *"-> /data"*) kill "$pid" 2>/dev/null ;;
      esac
    done
    sleep 0.1
  done
  if ! grep -q ' /data ' /proc/mounts; then
    echo "vps-test: data unmounted"
  elif mount -o remount,ro /data; then
    echo "vps-test: data remounted read-only"
  else
    echo "vps-test: data still mounted read-write"
  fi
  sync
fi
EOF

cat >"$R/usr/share/udhcpc/default.script" <<'EOF'
#!/bin/sh
# udhcpc event handler (busybox): applies the lease with ip(8).
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound | renew)
    if ! ip -4 addr show dev "$interface" | grep -q "inet $ip/$mask "; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/$mask" dev "$interface"
    fi
    if [ -n "$router" ]; then
      while ip -4 route del default dev "$interface" 2>/dev/null; do :; done
      set -- $router
      ip route add default via "$1" dev "$interface"
    fi
    if [ -n "$dns" ] && [ ! -s /run/vps-test/static-dns ]; then
      { [ -n "$domain" ] && echo "search $domain"; for d in $dns; do echo "nameserver $d"; done; } >/etc/resolv.conf
    fi
    echo "vps-test: dhcp $interface $ip/$mask router=$router"
    ;;
esac
exit 0
EOF

cat >"$R/usr/lib/vps-test/yaml.awk" <<'EOF'
# Flattens the small YAML subset used by NoCloud seeds into lines "path<TAB>value":
# block mappings, block lists (indented or at the parent key's indent), lists of
# mappings ("- key: v" + more keys below), flow lists/mappings (JSON too, may span
# lines), plain/'single'/"double" quoted scalars, comments. List items get their
# index as path element: "users/0/ssh_authorized_keys/1". Block scalars (| and >),
# anchors, aliases, tags and multi-document streams are skipped, not expanded.
function jp(a, b) { return a == "" ? b : a "/" b }
function rtrim(s) { sub(/[ \t\r]+$/, "", s); return s }
function emit(p, v) { gsub(/[\t\n]/, " ", v); print p "\t" v }
function quote_start(s, i,   c) { c = substr(s, i - 1, 1); return i == 1 || c == " " || c == "\t" || c == "[" || c == "{" || c == "," || c == ":" }
function strip_comment(s,   i, c, q, n) {
  q = ""; n = length(s)
  for (i = 1; i <= n; i++) {
    c = substr(s, i, 1)
    if (q != "") {
      if (q == "\"" && c == "\\") { i++; continue }
      if (c == q) { if (q == "'" && substr(s, i + 1, 1) == "'") { i++; continue }; q = "" }
      continue
    }
    if ((c == "\"" || c == "'") && quote_start(s, i)) { q = c; continue }
    if (c == "#" && (i == 1 || substr(s, i - 1, 1) ~ /[ \t]/)) return rtrim(substr(s, 1, i - 1))
  }
  return rtrim(s)
}
# Sets K and V when s is "key: value" or "key:"; returns 0 for a plain scalar.
function split_kv(s,   i, c, q, n) {
  q = ""; n = length(s)
  for (i = 1; i <= n; i++) {
    c = substr(s, i, 1)
    if (q != "") {
      if (q == "\"" && c == "\\") { i++; continue }
      if (c == q) { if (q == "'" && substr(s, i + 1, 1) == "'") { i++; continue }; q = "" }
      continue
    }
    if ((c == "\"" || c == "'") && quote_start(s, i)) { q = c; continue }
    if (c == ":" && (i == n || substr(s, i + 1, 1) ~ /[ \t]/)) {
      K = unquote(rtrim(substr(s, 1, i - 1))); V = substr(s, i + 1); sub(/^[ \t]+/, "", V); return 1
    }
  }
  return 0
}
function unquote(s,   S0, L0, P0, r) {
  if (s ~ /^".*"$/ || s ~ /^'.*'$/) { S0 = S; L0 = L; P0 = P; S = s; L = length(s); P = 1; r = fl_scalar(0); S = S0; L = L0; P = P0; return r }
  return s
}
# Flow-style parser over the global string S (length L, position P).
function fl_ws() { while (P <= L && substr(S, P, 1) ~ /[ \t\r\n]/) P++ }
function fl_scalar(iskey,   c, q, out, start) {
  fl_ws(); c = substr(S, P, 1)
  if (c == "\"" || c == "'") {
    q = c; P++; out = ""
    while (P <= L) {
      c = substr(S, P, 1)
      if (q == "\"" && c == "\\") { P++; c = substr(S, P, 1); if (c == "n") c = "\n"; else if (c == "t") c = "\t"; out = out c; P++; continue }
      if (c == q) { if (q == "'" && substr(S, P + 1, 1) == "'") { out = out "'"; P += 2; continue }; P++; break }
      out = out c; P++
    }
    return out
  }
  start = P
  while (P <= L) {
    c = substr(S, P, 1)
    if (c == "," || c == "]" || c == "}") break
    if (iskey && c == ":" && (P == L || substr(S, P + 1, 1) ~ /[ \t\r\n"'\[{]/)) break
    P++
  }
  return rtrim(substr(S, start, P - start))
}
function fl_value(path,   c, k, n) {
  fl_ws(); c = substr(S, P, 1)
  if (c == "{") {
    P++; fl_ws()
    if (substr(S, P, 1) == "}") { P++; return }
    while (P <= L) {
      k = fl_scalar(1); fl_ws()
      if (substr(S, P, 1) == ":") { P++; fl_value(jp(path, k)) } else emit(jp(path, k), "")
      fl_ws(); c = substr(S, P, 1); P++
      if (c != ",") return
      fl_ws(); if (substr(S, P, 1) == "}") { P++; return }
    }
  } else if (c == "[") {
    P++; n = 0; fl_ws()
    if (substr(S, P, 1) == "]") { P++; return }
    while (P <= L) {
      fl_value(jp(path, n++)); fl_ws(); c = substr(S, P, 1); P++
      if (c != ",") return
      fl_ws(); if (substr(S, P, 1) == "]") { P++; return }
    }
  } else emit(path, fl_scalar(0))
}
function flow_open(s,   i, c, q, d, n) {
  q = ""; d = 0; n = length(s)
  for (i = 1; i <= n; i++) {
    c = substr(s, i, 1)
    if (q != "") {
      if (q == "\"" && c == "\\") { i++; continue }
      if (c == q) { if (q == "'" && substr(s, i + 1, 1) == "'") { i++; continue }; q = "" }
      continue
    }
    if ((c == "\"" || c == "'") && quote_start(s, i)) q = c
    else if (c == "[" || c == "{") d++
    else if (c == "]" || c == "}") d--
  }
  return d > 0
}
function flow(s, path) {
  if (flow_open(s)) { fbuf = s; fpath = path; return }
  fbuf = ""; S = s; L = length(s); P = 1; fl_value(path)
}
BEGIN { sp = 0; blk = -1; fbuf = "" }
{
  line = $0; sub(/\r$/, "", line)
  if (fbuf != "") { flow(fbuf "\n" strip_comment(line), fpath); next }
  if (blk >= 0) {
    if (line ~ /^[ \t]*$/) next
    match(line, /^ */); if (RLENGTH > blk) next
    blk = -1
  }
  if (line ~ /^[ \t]*(#|$)/ || line ~ /^(---|\.\.\.)([ \t]|$)/ || line ~ /^%/) next
  match(line, /^ */); ind = RLENGTH; rest = strip_comment(substr(line, ind + 1))
  if (rest == "") next
  while (rest ~ /^-([ \t]|$)/) {
    while (sp > 0 && (sind[sp] > ind || (sind[sp] == ind && sdash[sp]))) sp--
    parent = sp > 0 ? spath[sp] : ""
    sp++; sind[sp] = ind; sdash[sp] = 1; spath[sp] = jp(parent, cnt[parent]++ + 0)
    rest = substr(rest, 2); match(rest, /^[ \t]*/); ind += 1 + RLENGTH; rest = substr(rest, RLENGTH + 1)
    if (rest == "") next
  }
  if (rest ~ /^[\[{]/) {
    # a flow collection standing for the current node (a list item or the whole document)
    while (sp > 0 && sind[sp] >= ind && !sdash[sp]) sp--
    flow(rest, sp > 0 ? spath[sp] : ""); next
  }
  if (split_kv(rest)) {
    while (sp > 0 && sind[sp] >= ind) sp--
    path = jp(sp > 0 ? spath[sp] : "", K)
    if (V == "") { sp++; sind[sp] = ind; sdash[sp] = 0; spath[sp] = path }
    else if (V ~ /^[|>][-+0-9]*$/) blk = ind
    else if (V ~ /^[\[{]/) flow(V, path)
    else if (V ~ /^[&*!]/) next
    else emit(path, unquote(V))
    next
  }
  if (sp > 0 && sdash[sp]) emit(spath[sp], unquote(rest))
}
EOF

cat >"$R/etc/init.d/rcS" <<'EOF'
#!/bin/sh
# vps-test sysinit, run once by busybox init before dropbear and acpid start.
export PATH=/bin
log() { echo "vps-test: $*"; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
echo 0 >/proc/sys/kernel/ctrl-alt-del
hostname -F /etc/hostname
ip link set lo up
# Host keys in the background: the first getrandom() waits for the kernel's entropy pool (~1 s under TCG).
mkdir -p /etc/dropbear
keygen=""
for t in ed25519 ecdsa; do
  [ -f /etc/dropbear/dropbear_${t}_host_key ] && continue
  dropbearkey -t $t -f /etc/dropbear/dropbear_${t}_host_key >/dev/null 2>&1 &
  keygen="$keygen $!"
done
load() { for m in $(cat "$1"); do modprobe "$m" || log "modprobe $m failed"; done; }
load /etc/modules

# ---- /data: the ext4 partition labelled data on the boot disk, the one place where files outlive the guest ----
if dev=$(findfs LABEL=data 2>/dev/null) && mount -t ext4 -o rw,noatime "$dev" /data; then
  log "data mounted ($dev on /data)"
else
  log "no data filesystem (ext4 labelled data) mounted"
fi

# ---- qemu-guest-agent on the virtio-serial port named org.qemu.guest_agent.0 ----
# mdev makes no /dev/virtio-ports links: the port is the /dev/vportNpM whose sysfs name matches. In the
# background, because QEMU announces its ports a moment after virtio_console loads and the boot need not wait.
(
  i=0
  while [ $i -lt 100 ]; do
    for n in /sys/class/virtio-ports/*/name; do
      [ "$(cat "$n" 2>/dev/null)" = org.qemu.guest_agent.0 ] || continue
      port=${n%/name}
      port=/dev/${port##*/}
      if qemu-ga -d -m virtio-serial -p "$port" -f /run/qemu-ga.pid -t /run -l /run/qemu-ga.log; then
        log "guest agent ready ($port)"
      else
        log "guest agent failed to start on $port"
      fi
      exit 0
    done
    i=$((i + 1))
    sleep 0.1
  done
  log "no guest agent port (org.qemu.guest_agent.0)"
) &

# ---- NoCloud seed: the block device whose filesystem label is cidata (or CIDATA) ----
find_seed() {
  for label in cidata CIDATA; do
    dev=$(findfs "LABEL=$label" 2>/dev/null) && [ -b "$dev" ] && { echo "$dev"; return 0; }
  done
  return 1
}
# modprobe returns after the devices of a loaded driver are probed (virtio disks, IDE/SCSI CD-ROMs); give late
# devices 2 s more, probing labels again only when the set of block devices changes (an empty CD tray is slow).
seed=$(find_seed) || {
  load /etc/modules.late
  seen=$(ls /sys/class/block)
  seed=$(find_seed) || {
    i=0
    while [ $i -lt 8 ]; do
      sleep 0.25
      i=$((i + 1))
      now=$(ls /sys/class/block)
      [ "$now" = "$seen" ] && continue
      seen=$now
      seed=$(find_seed) && break
    done
    [ -n "$seed" ] || seed=$(find_seed)
  }
}
log "modules loaded: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
S=/run/seed
Y=/run/vps-test
mkdir -p $S $Y
if [ -n "$seed" ] && mount -o ro "$seed" $S; then
  log "NoCloud seed on $seed"
else
  [ -n "$seed" ] && log "cannot mount seed $seed"
  [ -z "$seed" ] && log "no NoCloud seed (filesystem label cidata) found"
  seed=""
fi
flat() { awk -f /usr/lib/vps-test/yaml.awk "$1"; }
: >$Y/meta-data; : >$Y/user-data; : >$Y/network-config
if [ -n "$seed" ]; then
  [ -f $S/meta-data ] && flat $S/meta-data >$Y/meta-data
  if [ -f $S/user-data ]; then
    if head -n 1 $S/user-data | grep -q '^#cloud-config'; then
      flat $S/user-data >$Y/user-data
    else
      log "user-data is not #cloud-config; ignored"
    fi
  fi
  [ -f $S/network-config ] && flat $S/network-config | sed 's#^network/##' >$Y/network-config
fi
# yget PATH FILE: the scalar at PATH (fails when absent); ylist PATH FILE: the scalars of the list at PATH.
yget() { awk -v k="$1" 'BEGIN { FS = "\t" } $1 == k { v = $2; f = 1 } END { if (f) print v; else exit 1 }' "$2"; }
ylist() { awk -v k="$1/" 'BEGIN { FS = "\t" } index($1, k) == 1 && substr($1, length(k) + 1) ~ /^[0-9]+$/ { print $2 }' "$2"; }
truthy() { case "$1" in true | True | TRUE | yes | Yes | YES | on | On | ON) return 0 ;; esac; return 1; }
MD=$Y/meta-data
UD=$Y/user-data
NC=$Y/network-config

iid=$(yget instance-id $MD) && { log "instance-id=$iid"; echo "$iid" >$Y/instance-id; }

# Hostname as cloud-init's set_hostname computes it: fqdn > hostname (user-data) > local-hostname (meta-data);
# the short name (up to the first dot) becomes the hostname, the full name goes to /etc/hosts.
h="" fqdn=""
if fqdn=$(yget fqdn $UD); then
  h=$(yget hostname $UD) || h=${fqdn%%.*}
elif h=$(yget hostname $UD); then
  case "$h" in ?*.*) fqdn=$h; h=${h%%.*} ;; esac
elif fqdn=$(yget local-hostname $MD); then
  h=${fqdn%%.*}
fi
[ "$fqdn" = "$h" ] && fqdn=""
# cloud-init's prefer_fqdn_over_hostname: the full name becomes the hostname itself.
if [ -n "$fqdn" ] && truthy "$(yget prefer_fqdn_over_hostname $UD)"; then h=$fqdn; fqdn=""; fi
if [ -n "$h" ] && ! truthy "$(yget preserve_hostname $UD)"; then
  hostname "$h" && echo "$h" >/etc/hostname
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "${fqdn:+$fqdn }$h" >/etc/hosts
fi

# Root's keys: user-data ssh_authorized_keys, users[name=root].ssh_authorized_keys, meta-data public-keys.
mkdir -p /root/.ssh
chmod 700 /root /root/.ssh
{
  ylist ssh_authorized_keys $UD
  for n in $(awk 'BEGIN { FS = "\t" } $1 ~ /^users\/[0-9]+\/name$/ && $2 == "root" { split($1, a, "/"); print a[2] }' $UD); do
    ylist "users/$n/ssh_authorized_keys" $UD
  done
  ylist public-keys $MD
  yget public-keys $MD
} | awk 'NF && !seen[$0]++' >/root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys
log "authorized keys for root: $(wc -l </root/.ssh/authorized_keys)"
[ -n "$seed" ] && log "seed applied hostname=$(hostname)"

# ---- network ----
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 40 ]; do i=$((i + 1)); sleep 0.25; done
dhcp() {
  log "dhcp on $1"
  udhcpc -i "$1" -s /usr/share/udhcpc/default.script -p "/run/udhcpc.$1.pid" -x "hostname:$(hostname)" \
    -t 8 -T 2 -A 5 -b
}
ids=$(awk 'BEGIN { FS = "\t" } $1 ~ /^ethernets\// { split($1, a, "/"); if (!seen[a[2]]++) print a[2] }' $NC)
ver=$(yget version $NC || true)
if [ "$(yget config $NC || true)" = disabled ]; then
  log "network-config: config disabled; no network"
elif [ -z "$ids" ] || [ "$ver" != 2 ]; then
  [ -s $NC ] && log "network-config: no version 2 ethernets; falling back to dhcp on eth0"
  ip link set eth0 up 2>/dev/null && dhcp eth0
else
  first=1
  : >$Y/static-dns
  for id in $ids; do
    E=ethernets/$id
    mac=$(yget "$E/match/macaddress" $NC | tr A-F a-f || true)
    pat=$(yget "$E/match/name" $NC || true)
    dev=""
    if [ -n "$mac" ] || [ -n "$pat" ]; then
      for d in /sys/class/net/*; do
        n=${d##*/}
        [ "$n" = lo ] && continue
        [ -n "$mac" ] && [ "$(cat "$d/address")" != "$mac" ] && continue
        # shellcheck disable=SC2254 # match.name is a glob
        if [ -n "$pat" ]; then case "$n" in $pat) ;; *) continue ;; esac; fi
        dev=$n
        break
      done
      [ -z "$dev" ] && log "network-config: no interface matches ethernets.$id (macaddress=$mac name=$pat)"
    elif [ -e "/sys/class/net/$id" ]; then
      dev=$id
    elif [ $first = 1 ]; then
      dev=eth0
    fi
    first=0
    [ -n "$dev" ] || continue
    if new=$(yget "$E/set-name" $NC) && [ "$new" != "$dev" ]; then
      ip link set "$dev" down
      ip link set "$dev" name "$new" && dev=$new
    fi
    mtu=$(yget "$E/mtu" $NC) && ip link set "$dev" mtu "$mtu"
    ip link set "$dev" up
    for a in $(ylist "$E/addresses" $NC); do
      ip addr add "$a" dev "$dev" || log "cannot add address $a to $dev"
    done
    gw=$(yget "$E/gateway4" $NC) && { ip route add default via "$gw" dev "$dev" || log "cannot add gateway4 $gw"; }
    gw=$(yget "$E/gateway6" $NC) && { ip -6 route add default via "$gw" dev "$dev" || log "cannot add gateway6 $gw"; }
    n=0
    while to=$(yget "$E/routes/$n/to" $NC); do
      via=$(yget "$E/routes/$n/via" $NC || true)
      metric=$(yget "$E/routes/$n/metric" $NC || true)
      fam=-4
      case "$to$via" in *:*) fam=-6 ;; esac
      case "$to" in default | 0.0.0.0/0 | ::/0) to=default ;; esac
      ip $fam route add "$to" ${via:+via "$via"} dev "$dev" ${metric:+metric "$metric"} || log "cannot add route to $to via $via"
      n=$((n + 1))
    done
    ylist "$E/nameservers/search" $NC | sed 's/^/search /' >>$Y/static-dns
    ylist "$E/nameservers/addresses" $NC | sed 's/^/nameserver /' >>$Y/static-dns
    if truthy "$(yget "$E/dhcp4" $NC || true)"; then dhcp "$dev"; fi
    log "network $dev: $(ip -o addr show dev "$dev" | awk '$3 != "inet6" || $4 !~ /^fe80/ { printf "%s ", $4 }')"
  done
  [ -s $Y/static-dns ] && cp $Y/static-dns /etc/resolv.conf
fi

# ---- dropbear host keys (printed so the host can pin them); the guest agent's start is not waited for ----
[ -n "$keygen" ] && wait $keygen
for t in ed25519 ecdsa; do
  log "ssh host key $(dropbearkey -y -f /etc/dropbear/dropbear_${t}_host_key 2>/dev/null | grep '^\(ssh-\|ecdsa-\)')"
done
exit 0
EOF

chmod 755 "$R"/etc/init.d/* "$R/etc/acpi/PWRF/00000080" "$R/usr/share/udhcpc/default.script"

# --- initramfs, FAT partition with syslinux, MBR disk, qcow2 ---------------------------------------------------
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n >"$work/initrd.img"
cat >"$work/syslinux.cfg" <<'EOF'
SERIAL 0 115200
PROMPT 0
TIMEOUT 0
DEFAULT vps-test
LABEL vps-test
  KERNEL /vmlinuz
  INITRD /initrd.img
  APPEND console=ttyS0,115200
EOF
part_start=2048 # sectors (1 MiB)
payload=$(($(stat -c %s "$work/vmlinuz") + $(stat -c %s "$work/initrd.img")))
part_mb=$((payload / 1048576 + 4))
part_sectors=$((part_mb * 2048))
truncate -s "${part_mb}M" "$work/part.img"
mkfs.vfat -F 16 -n VPSTEST -i 5e57b007 -h "$part_start" "$work/part.img" >/dev/null
syslinux --install "$work/part.img"
mcopy -i "$work/part.img" "$work/vmlinuz" "$work/initrd.img" "$work/syslinux.cfg" ::/

le32() { printf '%b' "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))\\x$(printf %02x $((($1 >> 16) & 255)))\\x$(printf %02x $((($1 >> 24) & 255)))"; }
# Partition 2: /data, ext4 with a journal, right after the boot partition (both start on a MiB boundary).
data_start=$((part_start + part_sectors))
data_mb=24
data_sectors=$((data_mb * 2048))
truncate -s "${data_mb}M" "$work/data.img"
mkfs.ext4 -q -F -L data -U 5e57da7a-0000-4000-8000-000000000001 -E root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0 "$work/data.img"
truncate -s $(((data_start + data_sectors) * 512)) "$work/disk.img"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$work/disk.img" conv=notrunc status=none
# Partition 1: active, type 0x0e (FAT16 LBA); partition 2: type 0x83 (Linux). CHS fields: the LBA-only marker.
{ printf '\x80\xfe\xff\xff\x0e\xfe\xff\xff'; le32 "$part_start"; le32 "$part_sectors"; } |
  dd of="$work/disk.img" bs=1 seek=446 conv=notrunc status=none
{ printf '\x00\xfe\xff\xff\x83\xfe\xff\xff'; le32 "$data_start"; le32 "$data_sectors"; } |
  dd of="$work/disk.img" bs=1 seek=462 conv=notrunc status=none
printf '\x55\xaa' | dd of="$work/disk.img" bs=1 seek=510 conv=notrunc status=none
dd if="$work/part.img" of="$work/disk.img" bs=1M seek=1 conv=notrunc status=none
dd if="$work/data.img" of="$work/disk.img" bs=512 seek="$data_start" conv=notrunc,sparse status=none
qemu-img convert -f raw -O qcow2 "$work/disk.img" "$work/vps-test.qcow2"

mv -f "$work/vps-test.qcow2" "$image.tmp"
mv -f "$image.tmp" "$image"
echo "$want_stamp" >"$stamp"
echo "build-test-image: wrote $image ($(du -h "$image" | cut -f1); kernel $kver, initramfs $(du -h "$work/initrd.img" | cut -f1))"
