; 19 instructions
	ldh	[12]
	jeq	#0x8100, L4, L2
L2:
	jeq	#0x88a8, L4, L3
L3:
	jeq	#0x9100, L4, L18
L4:
	ldh	[14]
	and	#0xfff
	jeq	#0x64, L7, L18
L7:
	ldh	[16]
	jeq	#0x800, L9, L11
L9:
	ldb	[27]
	jeq	#0x11, L17, L18
L11:
	jeq	#0x86dd, L12, L18
L12:
	ldb	[24]
	jeq	#0x11, L17, L14
L14:
	jeq	#0x2c, L15, L18
L15:
	ldb	[58]
	jeq	#0x11, L17, L18
L17:
	ret	#262144
L18:
	ret	#0
