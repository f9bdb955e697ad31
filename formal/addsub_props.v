// Properties of ternary_addsub and binary_addsub (combinational): sum equals the spec,
// acc + c * x modulo 2^W with c = +1 / 0 / -1 from the code (docs/arithmetic.md section 2).
`default_nettype none

module addsub_props #(
    parameter W      = 5,  // operand width
    parameter BINARY = 0   // 1: binary_addsub (code 0 = +1, 1 = -1); 0: ternary_addsub
) (
    input wire signed [W-1:0] acc,
    input wire signed [W-1:0] x,
    input wire        [1:0]   code
);
    wire signed [W-1:0] sum;
    generate
        if (BINARY != 0) begin : g_bin
            binary_addsub #(.W(W)) dut (.acc(acc), .x(x), .code(code[0]), .sum(sum));
        end else begin : g_ter
            ternary_addsub #(.W(W)) dut (.acc(acc), .x(x), .code(code), .sum(sum));
        end
    endgenerate

`ifdef FORMAL
    // c * x in W + 2 bits, then reduced modulo 2^W (the documented wrap)
    wire signed [W+1:0] xw = {{2{x[W-1]}}, x};
    wire signed [W+1:0] aw = {{2{acc[W-1]}}, acc};
    wire signed [W+1:0] cx = (BINARY != 0) ? (code[0] ? -xw : xw)
                           : (code == 2'b01) ? xw : (code == 2'b11) ? -xw : {(W+2){1'b0}};
    wire signed [W+1:0] exact = aw + cx;
    always @(*) begin
        assert (sum == exact[W-1:0]);
        cover (code == 2'b11 && x != 0 && exact[W-1:0] == sum);
        cover (exact != {{2{sum[W-1]}}, sum});  // a wrapping case is reachable
    end
`endif
endmodule

`default_nettype wire
