/// Max: the variadic elementwise max of its inputs with broadcasting (see Variadic).
enum Max {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { try Variadic.make(c, .max) }
}
