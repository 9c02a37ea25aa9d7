# SPDX-License-Identifier: MIT
# nbgate - one non-recursive Makefile for the daemon, its tools, tests, benchmarks and fuzzers.
#
#   make            release daemon build/release/nbgate (-O2 -g)
#   make run        install missing packages, build, run with defaults (./nbgate-data)
#   make test       install missing packages, lint, unit + corpus replay + integration tests
#   make bench      benchmarks (load generator against libcoap's server and nbgate)
#   make fuzz       libFuzzer targets, FUZZ_SECONDS per target (clang)
#   make lint       clang-format check, exported-symbol prefixes, cppcheck, shellcheck, banned calls
#   make format     apply clang-format
#   make install    PREFIX/DESTDIR install of the daemon, config, unit and docs
#   make deb        Debian package into build/deb
#   make clean

VERSION    := 0.1.0
PREFIX     ?= /usr
SYSCONFDIR ?= /etc
DESTDIR    ?=
V          ?= 0
WERROR     ?= 1
CC         ?= gcc
CLANG      ?= clang
FUZZ_SECONDS ?= 60

ifeq ($(V),0)
Q   := @
say  = @printf '  %-6s %s\n' $(1) $(2);
else
Q   :=
say  =
endif

PKGS    := libcoap-3-openssl libprotobuf-c libmicrohttpd sqlite3 jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# -lssl: the DTLS endpoint calls OpenSSL on the SSL of libcoap's sessions (specs/dtls.md).
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lssl -lcrypto -lmbedx509 -lmbedtls \
              -lmbedcrypto -lpthread

WARN := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Wpedantic -Wshadow \
        -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wwrite-strings -Wpointer-arith \
        -Wcast-align -Wconversion -Wundef -Wvla -Wimplicit-fallthrough -Wnull-dereference
ifeq ($(WERROR),1)
WARN += -Werror
endif
# Generated protobuf-c code is never edited; it gets relaxed flags.
GEN_WARN := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -w

INCS := -I. -Ibuild/gen
# When nbgate was built (the last commit, or SOURCE_DATE_EPOCH in a package build): an Efento
# sensor is never given a time from before it (specs/efento.md R1).
BUILD_EPOCH ?= $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),1767225600)
DEFS := -DNBGATE_VERSION='"$(VERSION)"' -DNBGATE_BUILD_EPOCH=$(BUILD_EPOCH)

REL_FLAGS  := -O2 -g
TEST_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
BENCH_FLAGS := -O2 -g -DNDEBUG_BENCH

# ---- sources -------------------------------------------------------------------------------
GW_SRCS       := $(filter-out gateway/main.c,$(wildcard gateway/*.c))
# Profiles read descriptor sets with protobuf-c's bindings for descriptor.proto (libprotobuf-dev).
DESC_PROTO    := /usr/include/google/protobuf/descriptor.proto
DESC_GEN_C    := build/gen/google/protobuf/descriptor.pb-c.c
DESC_GEN_H    := $(DESC_GEN_C:.c=.h)
PROFILES_SRCS := $(wildcard profiles/*.c) $(DESC_GEN_C)
EFENTO_SRCS   := $(wildcard efento/*.c)
WEB_SRCS      := $(wildcard web/*.c)
EFENTO_PROTOS := $(wildcard proto/efento/*.proto)
EFENTO_GEN_C  := $(patsubst %.proto,build/gen/%.pb-c.c,$(EFENTO_PROTOS))
EFENTO_GEN_H  := $(EFENTO_GEN_C:.c=.h)
ALL_LIB_SRCS  := $(GW_SRCS) $(PROFILES_SRCS) $(EFENTO_SRCS) $(WEB_SRCS)
DAEMON_SRCS   := gateway/main.c $(ALL_LIB_SRCS)

# Unit tests: tests/unit/test_<name>.c links only with the sources listed in UNIT_<name>.
UNIT_config       := gateway/gw_config.c gateway/gw_log.c
UNIT_profile_json := $(PROFILES_SRCS)
UNIT_profile_model := $(PROFILES_SRCS)
UNIT_profile_proto := $(PROFILES_SRCS)
# The store's files use the pure helpers of the Efento and X.509 glue (no libcoap, no loop).
UNIT_store        := $(filter gateway/gw_store%,$(GW_SRCS)) gateway/gw_log.c gateway/gw_efento.c \
                     gateway/gw_x509.c $(PROFILES_SRCS) $(EFENTO_SRCS) $(EFENTO_GEN_C)
UNIT_store_efento := $(UNIT_store)
UNIT_dedup        := gateway/gw_dedup.c
UNIT_path         := gateway/gw_path.c
UNIT_sched        := gateway/gw_sched.c
UNIT_efento       := $(EFENTO_SRCS)
UNIT_pki          := gateway/gw_pki.c gateway/gw_log.c
UNIT_x509         := gateway/gw_x509.c
UNIT_NAMES := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(patsubst %,build/test/unit/test_%,$(UNIT_NAMES))

# Fuzz targets: tests/fuzz/fuzz_<name>.c with the sources in FUZZ_<name>.
FUZZ_profile_json := $(PROFILES_SRCS)
FUZZ_profile_proto := $(PROFILES_SRCS)
FUZZ_profile_model := $(PROFILES_SRCS)
FUZZ_config       := gateway/gw_config.c gateway/gw_log.c
FUZZ_path         := gateway/gw_path.c
FUZZ_api_bodies   := gateway/gw_api_parse.c
FUZZ_efento       := $(EFENTO_SRCS)
FUZZ_efento_measurements := $(EFENTO_SRCS)
FUZZ_efento_device_info  := $(EFENTO_SRCS)
FUZZ_efento_config       := $(EFENTO_SRCS)
FUZZ_efento_split        := $(EFENTO_SRCS)
FUZZ_web_json            := web/web_json.c $(PROFILES_SRCS)
FUZZ_web_csv             := web/web_csv.c
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
REPLAY_BINS  := $(patsubst %,build/test/fuzz/replay_%,$(FUZZ_NAMES))
FUZZ_BINS    := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_NAMES))

BENCH_sched  := gateway/gw_sched.c
BENCH_NAMES  := $(patsubst tests/bench/bench_%.c,%,$(wildcard tests/bench/bench_*.c))
BENCH_BINS   := $(patsubst %,build/bench/bench_%,$(BENCH_NAMES))

HELPER_SRCS  := $(wildcard tests/helpers/*.c)
# LD_PRELOAD shims: shared objects, not programs.
SHIM_SRCS    := tests/helpers/powercut.c tests/helpers/clockshift.c
HELPER_BINS  := $(patsubst tests/helpers/%.c,build/test/helpers/%,$(filter-out $(SHIM_SRCS),$(HELPER_SRCS)))
POWERCUT_SO  := $(patsubst tests/helpers/%.c,build/test/helpers/%.so,$(wildcard $(SHIM_SRCS)))
TOOL_SRCS    := $(wildcard tools/*.c)
TOOL_BINS    := $(patsubst tools/%.c,build/release/tools/%,$(TOOL_SRCS))
BENCH_SRCS   := $(wildcard tests/bench/bench_*.c)

objs = $(patsubst %.c,build/$(1)/%.o,$(filter-out build/gen/%,$(2))) \
       $(patsubst build/gen/%.c,build/$(1)/gen/%.o,$(filter build/gen/%,$(2)))

REL_OBJS  := $(call objs,release,$(DAEMON_SRCS) $(EFENTO_GEN_C))
TEST_OBJS := $(call objs,test,$(DAEMON_SRCS) $(EFENTO_GEN_C))

.PHONY: all run test test-build unit integration replay bench fuzz lint format install deb clean deps \
        deps-test tools
.DEFAULT_GOAL := all

all: build/release/nbgate tools

tools: $(TOOL_BINS)

deps:
	$(Q)tools/deps.sh

deps-test:
	$(Q)tools/deps.sh --test

# ---- generated protobuf-c code -------------------------------------------------------------
build/gen/%.pb-c.c build/gen/%.pb-c.h: %.proto
	$(call say,PROTOC,$<)mkdir -p build/gen && protoc-c -I. --c_out=build/gen $<
$(DESC_GEN_C) $(DESC_GEN_H) &: $(DESC_PROTO)
	$(call say,PROTOC,$<)mkdir -p build/gen && \
	  protoc-c -I/usr/include --c_out=build/gen google/protobuf/descriptor.proto

# ---- the admin page: web/static/* embedded as byte arrays for web/web_static.c -----------------
WEB_STATIC := $(sort $(wildcard web/static/*.html web/static/*.css web/static/*.js web/static/*.svg))
build/gen/web/web_assets.inc: $(WEB_STATIC) web/static
	$(call say,GEN,$@)mkdir -p $(@D) && n=0 && for f in $(WEB_STATIC); do \
	  printf 'static const unsigned char asset_%d[] = {\n' $$n; \
	  od -An -v -tx1 "$$f" | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; printf '0x00 };\n'; n=$$((n + 1)); \
	  done >$@.tmp && printf 'static const struct asset assets[] = {\n' >>$@.tmp && n=0 && \
	  for f in $(WEB_STATIC); do printf '{ "/%s", asset_%d, sizeof(asset_%d) - 1 },\n' \
	  "$${f#web/static/}" $$n $$n; n=$$((n + 1)); done >>$@.tmp && printf '};\n' >>$@.tmp && mv $@.tmp $@
build/release/web/web_static.o build/test/web/web_static.o: build/gen/web/web_assets.inc

# ---- objects -------------------------------------------------------------------------------
build/release/%.o: %.c | $(EFENTO_GEN_H) $(DESC_GEN_H)
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(WARN) $(REL_FLAGS) $(INCS) $(DEFS) $(PKG_CFLAGS) -MMD -MP $(CFLAGS) -c $< -o $@
build/test/%.o: %.c | $(EFENTO_GEN_H) $(DESC_GEN_H)
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(WARN) $(TEST_FLAGS) $(INCS) $(DEFS) $(PKG_CFLAGS) -MMD -MP $(CFLAGS) -c $< -o $@
build/bench/%.o: %.c | $(EFENTO_GEN_H) $(DESC_GEN_H)
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(WARN) $(BENCH_FLAGS) $(INCS) $(DEFS) $(PKG_CFLAGS) -MMD -MP $(CFLAGS) -c $< -o $@
build/release/gen/%.o: build/gen/%.c
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(GEN_WARN) $(REL_FLAGS) $(INCS) $(PKG_CFLAGS) -c $< -o $@
build/test/gen/%.o: build/gen/%.c
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(GEN_WARN) $(TEST_FLAGS) $(INCS) $(PKG_CFLAGS) -c $< -o $@
build/bench/gen/%.o: build/gen/%.c
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(GEN_WARN) $(BENCH_FLAGS) $(INCS) $(PKG_CFLAGS) -c $< -o $@

# ---- daemon --------------------------------------------------------------------------------
build/release/nbgate: $(REL_OBJS)
	$(call say,LD,$@)$(CC) $(REL_FLAGS) $^ $(PKG_LIBS) $(LDFLAGS) -o $@
build/test/nbgate: $(TEST_OBJS)
	$(call say,LD,$@)$(CC) $(TEST_FLAGS) $^ $(PKG_LIBS) $(LDFLAGS) -o $@

build/release/tools/%: tools/%.c
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(WARN) $(REL_FLAGS) $(INCS) $(DEFS) $(CFLAGS) $< -lm $(LDFLAGS) -o $@

# ---- unit tests, corpus replay, helpers -----------------------------------------------------
.SECONDEXPANSION:
build/test/unit/test_%: tests/unit/test_%.c $$(call objs,test,$$(UNIT_$$*) $$(if $$(filter efento,$$(firstword $$(subst _, ,$$*))),$$(EFENTO_GEN_C)))
	$(call say,LD,$@)mkdir -p $(@D) && $(CC) $(WARN) $(TEST_FLAGS) $(INCS) $(DEFS) $(PKG_CFLAGS) $^ -lcmocka $(PKG_LIBS) -lm $(LDFLAGS) -o $@

build/test/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $$(call objs,test,$$(FUZZ_$$*) $$(if $$(filter efento,$$(firstword $$(subst _, ,$$*))),$$(EFENTO_GEN_C)))
	$(call say,LD,$@)mkdir -p $(@D) && $(CC) $(WARN) $(TEST_FLAGS) $(INCS) $(DEFS) $(PKG_CFLAGS) $^ $(PKG_LIBS) -lm $(LDFLAGS) -o $@

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_$$*) $$(if $$(filter efento,$$(firstword $$(subst _, ,$$*))),$$(EFENTO_GEN_C)) | $(EFENTO_GEN_H) $(DESC_GEN_H)
	$(call say,FUZZ,$@)mkdir -p $(@D) && $(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined $(INCS) $(DEFS) $(PKG_CFLAGS) $^ $(PKG_LIBS) -lm -o $@

build/bench/bench_%: tests/bench/bench_%.c $$(call objs,bench,$$(BENCH_$$*))
	$(call say,LD,$@)mkdir -p $(@D) && $(CC) $(WARN) $(BENCH_FLAGS) $(INCS) $(DEFS) $(PKG_CFLAGS) $^ $(PKG_LIBS) -lm $(LDFLAGS) -o $@

build/test/helpers/%: tests/helpers/%.c
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(WARN) $(TEST_FLAGS) $(INCS) $< $(LDFLAGS) -o $@
build/test/helpers/%.so: tests/helpers/%.c
	$(call say,CC,$<)mkdir -p $(@D) && $(CC) $(WARN) -O1 -g -fPIC -shared $(INCS) $< -ldl -lpthread -o $@

test-build: build/test/nbgate $(UNIT_BINS) $(REPLAY_BINS) $(HELPER_BINS) $(POWERCUT_SO) tools

test: deps-test
	$(Q)$(MAKE) --no-print-directory lint
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)tests/run.sh

unit: $(UNIT_BINS)
	$(Q)tests/run.sh unit
replay: $(REPLAY_BINS)
	$(Q)tests/run.sh replay
integration: build/test/nbgate $(HELPER_BINS) $(POWERCUT_SO) tools
	$(Q)tests/run.sh integration

# ---- run, bench, fuzz ----------------------------------------------------------------------
run: deps
	$(Q)$(MAKE) --no-print-directory all
	build/release/nbgate --data-dir nbgate-data

bench: deps-test
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BINS)
	$(Q)for b in $(BENCH_BINS); do $$b || exit 1; done
	$(Q)tests/bench/run.sh

fuzz: $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do n=$${f##*/fuzz_}; mkdir -p build/fuzz/corpus/$$n; \
	  echo "fuzz $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus/$$n tests/fuzz/corpus/$$n || exit 1; done

# ---- lint, format --------------------------------------------------------------------------
C_FILES  = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
SH_FILES = $(shell git ls-files '*.sh' .ci/run tools/deps.sh 2>/dev/null | sort -u)

lint: build/release/nbgate
	$(Q)tests/lint.sh build/release/nbgate $(REL_OBJS)

format:
	$(Q)clang-format -i $(C_FILES)

# ---- install, deb --------------------------------------------------------------------------
# The installed config names the service's StateDirectory, /var/lib/nbgate, as data_dir; the
# unit's paths follow PREFIX and SYSCONFDIR. An existing config is never overwritten.
install: UNITDIR ?= /lib/systemd/system
install: build/release/nbgate
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(SYSCONFDIR)/nbgate/conf.d \
	  $(DESTDIR)$(PREFIX)/share/doc/nbgate $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(UNITDIR)
	install -m 0755 build/release/nbgate $(DESTDIR)$(PREFIX)/sbin/nbgate
	[ -e $(DESTDIR)$(SYSCONFDIR)/nbgate/nbgate.conf ] || { \
	  sed '/^#data_dir /a data_dir /var/lib/nbgate   # StateDirectory of nbgate.service' \
	    package/nbgate.conf >$(DESTDIR)$(SYSCONFDIR)/nbgate/nbgate.conf && \
	  chmod 0644 $(DESTDIR)$(SYSCONFDIR)/nbgate/nbgate.conf; }
	sed -e 's|/usr/sbin/|$(PREFIX)/sbin/|' -e 's|/etc/nbgate/|$(SYSCONFDIR)/nbgate/|' \
	  package/nbgate.service >$(DESTDIR)$(UNITDIR)/nbgate.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/nbgate.service
	install -m 0644 package/nbgate.8 $(DESTDIR)$(PREFIX)/share/man/man8/nbgate.8
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/nbgate/

deb:
	$(Q)package/build-deb.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
