/// Min: the variadic elementwise min of its inputs with broadcasting (see Variadic).
enum Min {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try Variadic.make(c, .min) }
}
