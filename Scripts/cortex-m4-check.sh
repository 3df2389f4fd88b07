#!/usr/bin/env bash
# The int8 C export on an emulated Cortex-M4. For LM, LM-Att and MM (random weights, a random
# input normalization, int8 calibrated on structured windows; the `C fixtures` test writes
# them): compiles the float and the int8 C with
#   arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os -std=c99 -Wall -Wextra -Werror
# links the int8 model into a tiny firmware (its own vector table and startup, semihosting for
# file I/O, no C library), runs it under `qemu-system-arm -M mps2-an386` (Cortex-M4) on 300 raw
# windows and checks that its scores and classes are byte for byte the Swift int8 executor's.
# Reports per model: .text/.data/.bss of the model's object file (arm-none-eabi-size), of the
# whole firmware (the model, the harness and libgcc's soft-float routines for the input
# quantization), the arena, the stack `predict` used (the stack is painted before each call
# and scanned after it), and instructions per inference.
#
# Instructions are counted with QEMU's `-icount shift=0`: every guest instruction advances the
# virtual clock by exactly 1 ns, and the firmware reads the CMSDK APB timer 0 (a 25 MHz
# down-counter on that clock) around each call. The firmware first times a loop of known
# length (2,000,000 instructions) to measure instructions per tick (40) rather than assume it;
# the count is exact up to one tick (40 instructions) per call. It counts instructions, not
# cycles: QEMU does not model the Cortex-M4 pipeline, flash wait states or the DWT cycle counter.
#
#   Scripts/cortex-m4-check.sh [--no-build] [--scratch-path DIR]   (default .build)
#
# Installs gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm from Debian's
# packages when they are missing (needs root and apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."
. Scripts/common.sh
script_options cortex-m4-check "$@"

if ! command -v arm-none-eabi-gcc >/dev/null || ! command -v qemu-system-arm >/dev/null; then
  echo "== installing gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-system-arm (Debian)"
  apt-get update -qq
  apt-get install -y -qq gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm >/dev/null
fi

write_fixtures cortex-m4-check CFixtures HARDISTILL_C_FIXTURES

cat >"$work/link.ld" <<'LD'
MEMORY {
  FLASH (rx) : ORIGIN = 0x00000000, LENGTH = 4M
  RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 4M
}
ENTRY(reset)
SECTIONS {
  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) . = ALIGN(4); } > FLASH
  .ARM.exidx : { *(.ARM.exidx*) } > FLASH
  _data_load = LOADADDR(.data);
  .data : { _data_start = .; *(.data*) . = ALIGN(4); _data_end = .; } > RAM AT > FLASH
  .bss (NOLOAD) : { _bss_start = .; *(.bss*) *(COMMON) . = ALIGN(4); _bss_end = .; } > RAM
  _stack_top = ORIGIN(RAM) + LENGTH(RAM);
}
LD
cat >"$work/main.c" <<'MAIN'
/* A tiny Cortex-M4 firmware for QEMU's mps2-an386: reads raw windows from the host through
 * semihosting, runs the generated int8 model on each, writes its scores and class back, and
 * reports the timer ticks, the stack the model used and the model's arena. */
#include <stdint.h>
#include MODEL_HEADER

#define PREDICT MODEL_PREDICT
#define T MODEL_T
#define C MODEL_C
#define K MODEL_K

extern uint32_t _data_load, _data_start, _data_end, _bss_start, _bss_end, _stack_top;
int main(void);

static int semihost(int op, void *argument) {
  register int r0 __asm__("r0") = op;
  register void *r1 __asm__("r1") = argument;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void reset(void) {
  uint32_t *from = &_data_load, *to = &_data_start;
  while (to < &_data_end) *to++ = *from++;
  for (to = &_bss_start; to < &_bss_end; ++to) *to = 0;
  {
    uint32_t block[2] = {0x20026, (uint32_t)main()}; /* ADP_Stopped_ApplicationExit */
    semihost(0x20, block);
  }
  for (;;) {}
}

__attribute__((section(".vectors"), used)) static const void *const vectors[2] = {
    &_stack_top, (const void *)reset};

static void put(const char *text) { semihost(0x04, (void *)text); }

static void put_number(const char *label, uint32_t value) {
  char digits[12];
  int i = 11;
  digits[i] = 0;
  do {
    digits[--i] = (char)('0' + value % 10);
    value /= 10;
  } while (value);
  put(label);
  put(digits + i);
  put("\n");
}

static int open_file(const char *path, int mode) {
  uint32_t block[3];
  int n = 0;
  while (path[n]) ++n;
  block[0] = (uint32_t)path;
  block[1] = (uint32_t)mode; /* 0: "r", 1: "rb", 5: "wb" */
  block[2] = (uint32_t)n;
  return semihost(0x01, block);
}

/* CMSDK APB timer 0 at 0x40000000, a 32-bit down-counter on the 25 MHz system clock. */
#define TIMER ((volatile uint32_t *)0x40000000)

static float window[T][C];

#define PAINT 4096
static uint32_t stack_depth(void) {
  volatile uint8_t *sp;
  uint32_t i;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (i = PAINT; i > 0; --i) {
    if (sp[-(int32_t)i] != 0xA5) return i;
  }
  return 0;
}

static void paint(void) {
  volatile uint8_t *sp;
  uint32_t i;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (i = 1; i <= PAINT; ++i) sp[-(int32_t)i] = 0xA5;
}

static void spin(uint32_t n) {
  __asm__ volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n) : : "cc");
}

int main(void) {
  int in = open_file("windows.f32", 1), out = open_file("output.bin", 5);
  uint32_t count = 0, ticks = 0, most = 0, deepest = 0, calibration;
  float scores[K];
  if (in < 0 || out < 0) {
    put("cannot open windows.f32 or output.bin\n");
    return 1;
  }
  TIMER[2] = 0xFFFFFFFFu; /* RELOAD */
  TIMER[1] = 0xFFFFFFFFu; /* VALUE */
  TIMER[0] = 1;           /* CTRL: enable */
  {
    /* 2,000,000 instructions (subs + bne, 1,000,000 times) measure ticks per instruction. */
    uint32_t start = TIMER[1];
    spin(1000000);
    calibration = start - TIMER[1];
  }
  for (;;) {
    uint32_t block[3] = {(uint32_t)in, (uint32_t)window, sizeof window};
    uint32_t start, elapsed, depth;
    int32_t best;
    if (semihost(0x06, block) != 0) break; /* the number of bytes NOT read */
    paint();
    start = TIMER[1];
    best = PREDICT((const float(*)[C])window, scores);
    elapsed = start - TIMER[1];
    depth = stack_depth();
    if (depth > deepest) deepest = depth;
    ticks += elapsed;
    if (elapsed > most) most = elapsed;
    {
      uint32_t write_scores[3] = {(uint32_t)out, (uint32_t)scores, sizeof scores};
      uint32_t write_class[3] = {(uint32_t)out, (uint32_t)&best, sizeof best};
      semihost(0x05, write_scores);
      semihost(0x05, write_class);
    }
    ++count;
  }
  {
    uint32_t close_out[1] = {(uint32_t)out};
    semihost(0x02, close_out);
  }
  put_number("windows ", count);
  put_number("timer ticks for 2000000 calibration instructions ", calibration);
  put_number("timer ticks, all windows ", ticks);
  put_number("timer ticks, slowest window ", most);
  put_number("stack bytes used by predict ", deepest);
  put_number("arena bytes ", MODEL_ARENA);
  return 0;
}
MAIN

flags="-mcpu=cortex-m4 -mthumb -Os -std=c99 -Wall -Wextra -Werror"
arm-none-eabi-gcc --version | head -1
qemu-system-arm --version | head -1
failed=0
while IFS=$'\t' read -r name windows time channels classes arena weights macs; do
  [ "$name" = name ] && continue
  dir=$work/$name
  model=${name}_int8
  upper=$(echo "$model" | tr '[:lower:]' '[:upper:]')
  arm-none-eabi-gcc $flags -c "$dir/${name}_float.c" -o "$dir/float.o"
  arm-none-eabi-gcc $flags -c "$dir/$model.c" -o "$dir/model.o"
  arm-none-eabi-gcc $flags -ffreestanding -I"$dir" -DMODEL_HEADER="\"$model.h\"" \
    -DMODEL_PREDICT="${model}_predict" -DMODEL_T="${upper}_TIME_STEPS" \
    -DMODEL_C="${upper}_CHANNELS" -DMODEL_K="${upper}_CLASSES" \
    -DMODEL_ARENA="${upper}_ARENA_BYTES" -c "$work/main.c" -o "$dir/main.o"
  arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -nostartfiles -nostdlib -T "$work/link.ld" \
    "$dir/main.o" "$dir/model.o" -lgcc -o "$dir/firmware.elf"
  report=$( cd "$dir" && timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none \
    -serial none -semihosting-config enable=on,target=native -icount shift=0 \
    -kernel firmware.elf 2>&1 )
  value() { echo "$report" | sed -n "s/^$1 //p"; }
  read -r text data bss _ < <(arm-none-eabi-size "$dir/model.o" | tail -1)
  read -r ftext fdata fbss _ < <(arm-none-eabi-size "$dir/float.o" | tail -1)
  read -r wtext wdata wbss _ < <(arm-none-eabi-size "$dir/firmware.elf" | tail -1)
  calibration=$(value "timer ticks for 2000000 calibration instructions")
  ticks=$(value "timer ticks, all windows")
  slowest=$(value "timer ticks, slowest window")
  stack=$(value "stack bytes used by predict")
  ran=$(value "windows")
  if cmp -s "$dir/output.bin" "$dir/expected.bin" && [ "$ran" = "$windows" ]; then
    verdict=ok
  else
    verdict=FAIL
    failed=$((failed + 1))
  fi
  per_tick=$(( 2000000 / calibration ))
  if [ $verdict = ok ]; then
    echo "ok   $name: $ran windows on the Cortex-M4, scores and classes byte-identical to Swift's"
  else
    echo "FAIL $name: $ran of $windows windows ran; the output differs from Swift's"
  fi
  echo "     int8 model.o: .text $text .data $data .bss $bss bytes (flash $((text + data)), RAM $((bss + stack)) with $stack bytes of stack); arena $arena bytes; $macs MACs"
  echo "     whole firmware: .text $wtext .data $wdata .bss $wbss; float C model.o: .text $ftext .data $fdata .bss $fbss"
  echo "     instructions per inference: $(( ticks * per_tick / ran )) mean, $(( slowest * per_tick )) slowest ($per_tick instructions per timer tick, measured)"
done <"$work/manifest.tsv"
[ $failed -eq 0 ] || { echo "cortex-m4-check: FAIL: $failed models" >&2; exit 1; }
