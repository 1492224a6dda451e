# SPDX-License-Identifier: GPL-2.0
# TAP helpers and image builders for the unionctr end-to-end tests (bash).

_n=0
_failed=0

ok() { # STATUS DESCRIPTION
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_failed=$((_failed + 1))
	fi
}

diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

is() { # GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  '$1'" "want: '$2'"
	fi
}

like() { # GOT EXTENDED-REGEX DESCRIPTION
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  '$1'" "want match: '$2'"
	fi
}

unlike() { # GOT EXTENDED-REGEX DESCRIPTION
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 1 "$3"
		diag "got:  '$1'" "want no match: '$2'"
	else
		ok 0 "$3"
	fi
}

done_testing() {
	echo "1..$_n"
	[ "$_failed" = 0 ]
}

# A busybox rootfs from the host's static busybox.
make_busybox_rootfs() { # DIR
	local d=$1 a
	mkdir -p "$d"/{bin,etc,root,tmp,proc,sys,dev,opt/seed,var/empty}
	cp /bin/busybox "$d/bin/busybox"
	# One process for the ~400 applet links (an exec each is slow on CI).
	"$d/bin/busybox" --list | D="$d/bin" \
		perl -ne 'chomp; $_ eq "busybox" or symlink("busybox", "$ENV{D}/$_") or die "$_: $!"' 
	printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' > "$d/etc/passwd"
	printf 'root:x:0:\napp:x:1000:\nextra:x:2000:app\n' > "$d/etc/group"
	chmod 1777 "$d/tmp"
	echo seed > "$d/opt/seed/file"
	chown 1234:5678 "$d/opt/seed" "$d/opt/seed/file"
	chmod 0750 "$d/opt/seed"
	echo not-a-dir > "$d/etc/afile"
}

# The common start of the end-to-end scripts: root, the storage backend
# (UNIONCTR_TEST_STORAGE, default overlay) with a writable union, busybox
# and the launcher, else a TAP skip plan and exit.  Sets UC STORAGE QUICK
# T (a fresh directory, named after $1) ROOT TO, and uc().
e2e_init() { # NAME
	local probe why base
	UC=${UNIONCTR:-$HERE/unionctr}
	STORAGE=${UNIONCTR_TEST_STORAGE:-overlay}
	# QUICK=1 (the default in the emulated test guest, where every exec is slow):
	# only what depends on the storage backend; the rest runs on the host.
	QUICK=${UNIONCTR_TEST_QUICK:-$([ "$STORAGE" = unionfs ] && echo 1 || echo 0)}
	export UNIONCTR_STORAGE=$STORAGE

	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP needs root"
		exit 0
	fi
	if ! grep -qw "$STORAGE" /proc/filesystems; then
		modprobe "$STORAGE" 2>/dev/null
		if ! grep -qw "$STORAGE" /proc/filesystems; then
			echo "1..0 # SKIP no $STORAGE filesystem in this kernel"
			exit 0
		fi
	fi
	if [ ! -x /bin/busybox ] || [ ! -x "$UC" ]; then
		echo "1..0 # SKIP needs /bin/busybox and $UC"
		exit 0
	fi
	# A container root needs a writable union. Skip only when the backing
	# directory itself takes no write; when it does and a fresh union over
	# it does not, that is the feature under test failing: fail.
	if [ "$STORAGE" = unionfs ]; then
		probe=$(mktemp -d /tmp/ufs-probe.XXXXXX)
		mkdir -p "$probe"/l "$probe"/u "$probe"/w "$probe"/m
		if ! touch "$probe"/u/.backing-probe 2>/dev/null; then
			rm -rf "$probe"
			echo "1..0 # SKIP the backing /tmp takes no write"
			exit 0
		fi
		rm -f "$probe"/u/.backing-probe
		why=""
		if ! mount -i -t unionfs none "$probe"/m \
			-o lowerdir="$probe"/l,upperdir="$probe"/u,workdir="$probe"/w 2>"$probe"/err; then
			why="cannot mount a fresh union: $(cat "$probe"/err)"
		else
			touch "$probe"/m/probe 2>"$probe"/err ||
				why="a write through a fresh union fails: $(cat "$probe"/err)"
			umount "$probe"/m
		fi
		rm -rf "$probe"
		if [ -n "$why" ]; then
			printf '1..1\nnot ok 1 - %s: %s\n' "$1" "$why"
			exit 1
		fi
	fi

	# State on tmpfs when there is one: the test is about the launcher, not the disk.
	base=/tmp
	[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
	T=$(mktemp -d "${UNIONCTR_TEST_TMPDIR:-$base}/$1.XXXXXX")
	ROOT=$T/state
	# Per-command bound; generous in quick mode (the emulated guest is slow).
	TO="timeout -k 5 ${UNIONCTR_TEST_CMD_TIMEOUT:-$([ "$QUICK" = 1 ] && echo 300 || echo 60)}"
	uc() { $TO "$UC" --root "$ROOT" "$@"; }
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# An OCI image layout: the busybox rootfs, then two layers with whiteouts.
make_oci_layout() { # ROOTFS OUTDIR
	local rootfs=$1 out=$2 w=$2.work l0 l1 l2 cfg man d
	mkdir -p "$out/blobs/sha256" "$w/l1/etc" "$w/l1/opq" "$w/l2/etc" "$w/l2/opq"
	echo gone > "$w/l1/etc/gone"
	echo keep > "$w/l1/etc/keep"
	echo old > "$w/l1/opq/old"
	: > "$w/l2/etc/.wh.gone"
	: > "$w/l2/opq/.wh..wh..opq"
	echo new > "$w/l2/opq/new"
	tar -C "$rootfs" -cf "$w/l0.tar" .
	tar -C "$w/l1" -cf "$w/l1.tar" .
	tar -C "$w/l2" -czf "$w/l2.tar.gz" .
	for f in l0.tar l1.tar l2.tar.gz; do
		d=$(sha256_of "$w/$f")
		cp "$w/$f" "$out/blobs/sha256/$d"
		eval "${f%%.*}=$d"
	done
	# diff_ids: the digests of the uncompressed layers (docker save's layer.tar files)
	d=$(gzip -dc "$w/l2.tar.gz" | sha256sum | cut -d' ' -f1)
	cat > "$w/config.json" <<EOF
{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh","-c","echo from-config \$OCIVAR; pwd"],"Env":["PATH=/bin","OCIVAR=oci"],"WorkingDir":"/opq","User":"app","Volumes":{"/vol":{}}},"rootfs":{"type":"layers","diff_ids":["sha256:$l0","sha256:$l1","sha256:$d"]}}
EOF
	cfg=$(sha256_of "$w/config.json")
	cp "$w/config.json" "$out/blobs/sha256/$cfg"
	cat > "$w/manifest.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$cfg","size":1},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:$l0","size":1},{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:$l1","size":1},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$l2","size":1}]}
EOF
	man=$(sha256_of "$w/manifest.json")
	cp "$w/manifest.json" "$out/blobs/sha256/$man"
	cat > "$out/index.json" <<EOF
{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$man","size":1,"annotations":{"org.opencontainers.image.ref.name":"ocitest:1"}}]}
EOF
	echo '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
	# The same image as `docker save` writes it (the legacy layout).
	mkdir -p "$w/save/a" "$w/save/b" "$w/save/c"
	cp "$w/l0.tar" "$w/save/a/layer.tar"
	cp "$w/l1.tar" "$w/save/b/layer.tar"
	gzip -dc "$w/l2.tar.gz" > "$w/save/c/layer.tar"
	cp "$w/config.json" "$w/save/$cfg.json"
	cat > "$w/save/manifest.json" <<EOF
[{"Config":"$cfg.json","RepoTags":["saved:v1"],"Layers":["a/layer.tar","b/layer.tar","c/layer.tar"]}]
EOF
	tar -C "$w/save" -cf "$out.docker-save.tar" .
}

# Store TEXT as a blob of the OCI layout OUT; print its digest.
oci_blob() { # OUT TEXT
	local d
	printf '%s\n' "$2" > "$1/blob.tmp"
	d=$(sha256_of "$1/blob.tmp")
	mv "$1/blob.tmp" "$1/blobs/sha256/$d"
	echo "$d"
}

# An OCI image layout OUT of a config (JSON text) and layer tarballs,
# bottom first (moved into the layout).
oci_layout() { # OUT CONFIG LAYER.tar...
	local out=$1 cfg=$2 l d layers="" man
	shift 2
	mkdir -p "$out/blobs/sha256"
	for l; do
		d=$(sha256_of "$l")
		mv "$l" "$out/blobs/sha256/$d"
		layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$d\",\"size\":1}"
	done
	cfg=$(oci_blob "$out" "$cfg")
	man=$(oci_blob "$out" "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:$cfg\",\"size\":1},\"layers\":[$layers]}")
	echo "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:$man\",\"size\":1}]}" > "$out/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
}

# An OCI layout of the busybox rootfs plus N one-file layers: with the state
# root's long paths, N=60 overflows the 4 KiB mount option page.
make_many_layers() { # ROOTFS OUTDIR N
	local rootfs=$1 out=$2 n=$3 w=$2.work i tars=()
	mkdir -p "$w"
	tar -C "$rootfs" -cf "$w/base.tar" .
	tars=("$w/base.tar")
	for i in $(seq "$n"); do
		mkdir -p "$w/l$i/layers"
		echo "$i" > "$w/l$i/layers/$i"
		echo "$i" > "$w/l$i/layers/top"
		tar -C "$w/l$i" -cf "$w/l$i.tar" .
		tars+=("$w/l$i.tar")
	done
	oci_layout "$out" '{"config":{"Cmd":["/bin/sh"]}}' "${tars[@]}"
	rm -rf "$w"
}
