
BprobsJ(Rl0Ž(4_LN3wðQ4žVq0O³¿,NCC6ä£¼.Êÿ?©ÚF2