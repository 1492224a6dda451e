# unionfs: top-level build, test and benchmark entry points.
#
#   make            module for every installed kernel (build/<kver>/kmod) + userspace + tests
#   make KVER=K     only for kernel K
#   make check      the whole suite in QEMU on 6.1 and 6.12, summary by prove
#   make check-debug  the suite on a KASAN+lockdep 6.1 kernel (built once, cached)
#   make check-mutants  one-line breakages of kmod/ the suite must catch (KVER=, default 6.1)
#   make soak       the differential oracle for hours: SOAK_SEQS sequences (0: until SOAK_TIMEOUT)
#   make lint       checkpatch --strict, sparse on both kernels, userspace -Werror
#   make demo       boot a guest and show a union at work
#   make shell      interactive guest shell with the module loaded
#   make install    unionfs-mount and unionctr into $(DESTDIR)$(PREFIX)/bin (PREFIX=/usr/local); run make first
#   make bench      benchmarks (docs/benchmarks.md)
#   make reliability-report  docs/reliability.md from the last check (and check-debug) results
#   make fstests    fstests against overlayfs and unionfs (KVER, FSTESTS="-g quick"|"overlay/001 ...",
#                   FSTESTS_FS=xfs|ext4, FSTESTS_MODE=both|overlay|unionfs); make fstests-ci: the CI subset
#   make fstests-report  docs/fstests.md from docs/fstests/runs/

SHELL := /bin/bash
TOP := $(abspath .)
BUILD := $(TOP)/build

# Kernels with headers installed (Debian: /lib/modules/<kver>/build).
KVERS_ALL := $(sort $(patsubst /lib/modules/%/build,%,$(wildcard /lib/modules/*/build)))
ifdef KVER
KVERS := $(KVER)
else
KVERS := $(KVERS_ALL)
endif

KMOD_SRCS := $(wildcard $(TOP)/kmod/*.c $(TOP)/kmod/*.h) $(TOP)/kmod/Kbuild
EXTRA_KFLAGS := W=1

CC := gcc
USER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE

.PHONY: all kmod userspace selftests install check check-run check-debug check-mutants soak soak-run lint demo demo-run shell bench deps clean reliability-report \
	fstests fstests-run fstests-ci fstests-ci-run fstests-report
all: kmod userspace selftests

deps:
	$(TOP)/scripts/deps

# Installs what "make" built; builds nothing (root runs it after a user's
# make, and the guests run it with the tree read-only).
PREFIX ?= /usr/local
INSTALL_PROGS := unionfs-mount unionctr
install:
	@for p in $(INSTALL_PROGS); do \
		[ -x $(BUILD)/bin/$$p ] || { echo "$(BUILD)/bin/$$p is not built: run make first" >&2; exit 1; }; \
	done
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(addprefix $(BUILD)/bin/,$(INSTALL_PROGS)) $(DESTDIR)$(PREFIX)/bin/

# Each kernel gets its own output dir of symlinks to the sources, so builds for
# different kernels never share objects.
kmod: $(foreach k,$(KVERS),$(BUILD)/$(k)/kmod/unionfs.ko)

$(BUILD)/%/kmod/unionfs.ko: $(KMOD_SRCS)
	@mkdir -p $(@D)
	@for f in $(TOP)/kmod/*.c $(TOP)/kmod/*.h $(TOP)/kmod/Kbuild; do \
		ln -sf $$f $(@D)/; done
	@find $(@D) -xtype l -delete
	$(MAKE) -C /lib/modules/$*/build M=$(@D) $(EXTRA_KFLAGS) modules

include $(TOP)/userspace/Makefile.inc
include $(TOP)/selftests/Makefile.inc

# check, demo and bench first install whatever is missing (as root), then
# re-enter make so that KVERS sees kernels that were just installed.
check: deps
	$(MAKE) all
	$(MAKE) check-run

check-run:
	$(TOP)/scripts/vm/check $(KVERS)

check-debug: deps
	$(MAKE) all
	$(TOP)/scripts/vm/check --debug

check-mutants: deps
	$(MAKE) all
	$(TOP)/scripts/check-mutants $(if $(KVER),--kver $(KVER))

# Long run of the differential oracle (overlayfs vs unionfs) in one guest:
# 100 000 seeded sequences of 100 operations by default, SOAK_SEQS=0 for no
# bound (until SOAK_TIMEOUT seconds). Disagreements are shrunk and printed.
SOAK_SEQS ?= 100000
SOAK_FIRST ?= 1
SOAK_TIMEOUT ?= 86400
SOAK_KVER ?= $(firstword $(KVERS))
SOAK_FS ?= tmpfs
soak: deps
	$(MAKE) all
	$(MAKE) soak-run

soak-run:
	$(TOP)/scripts/vm/run --kver $(SOAK_KVER) --timeout $(SOAK_TIMEOUT) \
		--results $(BUILD)/results/soak-$(SOAK_KVER) -- \
		env UNIONFS_DIFF_BUDGET=0 $(TOP)/selftests/unionfs/differential.py \
		--seeds 0 --seqs $(SOAK_SEQS) --first $(SOAK_FIRST) --fs "$(SOAK_FS)"

lint: all
	$(TOP)/scripts/lint $(KVERS)

demo: deps
	$(MAKE) all
	$(MAKE) demo-run

demo-run:
	$(TOP)/scripts/vm/run --kver $(firstword $(KVERS)) -- $(TOP)/scripts/demo

shell: all
	$(TOP)/scripts/vm/run --kver $(firstword $(KVERS) ) --shell

reliability-report:
	$(TOP)/scripts/reliability-report

bench: deps
	$(MAKE) all
	BENCH=$(or $(BENCH),default) $(TOP)/scripts/bench/run $(if $(KVER),--kver $(KVER))

# fstests (scripts/fstests): built from ../shared/fstests/xfstests.tar.gz into
# build/fstests, run in one guest; results in build/fstests-results/.
FSTESTS_KVER ?= $(if $(KVER),$(KVER),6.12)
FSTESTS_FS ?= xfs
FSTESTS_MODE ?= both
FSTESTS_KFULL = $(or $(filter $(FSTESTS_KVER),$(KVERS_ALL)),$(lastword $(filter $(FSTESTS_KVER).% $(FSTESTS_KVER)-%,$(KVERS_ALL))))
fstests: deps
	$(MAKE) KVER=$(FSTESTS_KFULL) all
	$(MAKE) fstests-run

fstests-run:
	$(TOP)/scripts/fstests/run --kver $(FSTESTS_KVER) --fs $(FSTESTS_FS) --mode $(FSTESTS_MODE) \
		$(FSTESTS_ARGS) -- $(FSTESTS)

fstests-ci: deps
	$(MAKE) KVER=$(FSTESTS_KFULL) all
	$(MAKE) fstests-ci-run

fstests-ci-run:
	$(TOP)/scripts/fstests/run --ci --kver $(FSTESTS_KVER) --fs $(FSTESTS_FS)

fstests-report:
	$(TOP)/scripts/fstests/report

clean:
	rm -rf $(BUILD)
