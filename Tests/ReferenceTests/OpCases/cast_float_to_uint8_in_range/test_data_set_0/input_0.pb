
BXJ(–âôAF{C2ŒÙB=môB8œBÈÓC)*Cï^¸B¬!BËB