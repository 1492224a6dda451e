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
	cat > "$w/config.json" <<EOF
{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh","-c","echo from-config \$OCIVAR; pwd"],"Env":["PATH=/bin","OCIVAR=oci"],"WorkingDir":"/opq","User":"app","Volumes":{"/vol":{}}},"rootfs":{"type":"layers","diff_ids":[]}}
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

# An OCI layout of the busybox rootfs plus N one-file layers: with the state
# root's long paths, N=60 overflows the 4 KiB mount option page.
make_many_layers() { # ROOTFS OUTDIR N
	local rootfs=$1 out=$2 n=$3 w=$2.work i d cfg man layers=""
	mkdir -p "$out/blobs/sha256" "$w"
	tar -C "$rootfs" -cf "$w/base.tar" .
	d=$(sha256_of "$w/base.tar")
	mv "$w/base.tar" "$out/blobs/sha256/$d"
	layers="{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$d\",\"size\":1}"
	for i in $(seq "$n"); do
		mkdir -p "$w/l$i/layers"
		echo "$i" > "$w/l$i/layers/$i"
		echo "$i" > "$w/l$i/layers/top"
		tar -C "$w/l$i" -cf "$w/l$i.tar" .
		d=$(sha256_of "$w/l$i.tar")
		mv "$w/l$i.tar" "$out/blobs/sha256/$d"
		layers="$layers,{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$d\",\"size\":1}"
	done
	echo '{"config":{"Cmd":["/bin/sh"]}}' > "$w/config.json"
	cfg=$(sha256_of "$w/config.json")
	cp "$w/config.json" "$out/blobs/sha256/$cfg"
	echo "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:$cfg\",\"size\":1},\"layers\":[$layers]}" > "$w/manifest.json"
	man=$(sha256_of "$w/manifest.json")
	cp "$w/manifest.json" "$out/blobs/sha256/$man"
	echo "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:$man\",\"size\":1}]}" > "$out/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
	rm -rf "$w"
}
