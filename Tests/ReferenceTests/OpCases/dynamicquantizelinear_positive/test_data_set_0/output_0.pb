
ByJ
õM0gv‹qÿ/r