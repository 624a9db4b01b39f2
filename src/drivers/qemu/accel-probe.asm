; The accelerator probe of the QEMU driver (accel-probe.ts embeds the assembled bytes).
; Boot sector probe: real mode -> protected mode -> long mode with the first 1 GiB identity-mapped by
; 2 MiB pages, then fill 64 MiB of memory from 16 MiB up, then exit QEMU through isa-debug-exit.
bits 16
org 0x7c00
start:
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7c00
  in al, 0x92            ; fast A20
  or al, 2
  out 0x92, al
  lgdt [gdt_desc]
  mov eax, cr0
  or eax, 1
  mov cr0, eax
  jmp 0x08:pm
bits 32
pm:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov edi, 0x1000        ; PML4 0x1000, PDPT 0x2000, PD 0x3000
  xor eax, eax
  mov ecx, 3072
  rep stosd
  mov dword [0x1000], 0x2003
  mov dword [0x2000], 0x3003
  mov edi, 0x3000
  mov eax, 0x83          ; present, writable, 2 MiB page
  mov ecx, 512
.pd:
  mov [edi], eax
  add eax, 0x200000
  add edi, 8
  loop .pd
  mov eax, 0x1000
  mov cr3, eax
  mov eax, cr4
  or eax, 1 << 5
  mov cr4, eax
  mov ecx, 0xc0000080
  rdmsr
  or eax, 1 << 8
  wrmsr
  mov eax, cr0
  or eax, 1 << 31
  mov cr0, eax
  jmp 0x18:lm
bits 64
lm:
  mov rdi, 0x1000000
  mov rcx, 0x800000      ; 8 Mi quadwords = 64 MiB
  mov rax, 0x5a5a5a5a5a5a5a5a
  rep stosq
  mov al, 0x31
  out 0xf4, al
.halt:
  hlt
  jmp .halt
align 8
gdt:
  dq 0
  dq 0x00cf9a000000ffff
  dq 0x00cf92000000ffff
  dq 0x00af9a000000ffff
gdt_desc:
  dw gdt_desc - gdt - 1
  dd gdt
times 510 - ($ - $$) db 0
dw 0xaa55
