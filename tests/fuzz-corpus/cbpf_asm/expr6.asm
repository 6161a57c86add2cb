; 4 instructions
	ld	#pktlen
	jgt	#0x64, L2, L3
L2:
	ret	#262144
L3:
	ret	#0
