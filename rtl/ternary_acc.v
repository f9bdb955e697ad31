// ternary_acc: stream accumulator of ternary synapses, acc += code * x over a packet of beats.
//
// Each accepted beat (s_valid & s_ready) adds, subtracts or skips s_x according to its
// 2-bit code (00 skip, 01 add, 11 subtract, 10 illegal = skip) through ternary_addsub, one
// shared carry chain. The beat with s_last closes the packet: the accumulator including
// that beat appears on m_acc with m_valid (held until m_ready), and the accumulator starts
// again from 0. Reference: icespike.fixed.ternary_accumulate (docs/arithmetic.md s. 2, 6).
//
// Timing: one output register; a packet's result is valid the cycle after its last beat.
// s_ready = !m_valid | m_ready (a beat is refused only while a result waits).
// rst (synchronous, active high) drops the packet in progress and any waiting result.
`default_nettype none

module ternary_acc #(
    parameter ACC_W    = 19,  // accumulator / result width (signed)
    parameter X_W      = 8,   // input width
    parameter X_SIGNED = 0,   // 1: s_x is two's complement, 0: s_x is unsigned
    parameter SATURATE = 0    // 1: clamp to the signed ACC_W range after every beat;
                              // 0: the caller proved ACC_W wide enough (result wraps)
) (
    input  wire                    clk,
    input  wire                    rst,
    // input beats
    input  wire                    s_valid,
    output wire                    s_ready,
    input  wire [X_W-1:0]          s_x,
    input  wire [1:0]              s_code,   // 00 skip, 01 add, 11 subtract
    input  wire                    s_last,
    // packet results
    output wire                    m_valid,
    input  wire                    m_ready,
    output wire signed [ACC_W-1:0] m_acc
);

    // x as a signed value, and the adder width: one guard bit when saturating.
    localparam XS_W  = X_SIGNED ? X_W : X_W + 1;
    localparam SUM_W = SATURATE ? ((XS_W > ACC_W ? XS_W : ACC_W) + 1) : ACC_W;

    reg                    m_valid_q;
    reg signed [ACC_W-1:0] m_acc_q;
    reg signed [ACC_W-1:0] acc_q;

    wire fire = s_valid & s_ready;
    assign s_ready = ~m_valid_q | m_ready;
    assign m_valid = m_valid_q;
    assign m_acc   = m_acc_q;

    wire signed [SUM_W-1:0] x_ext;
    wire signed [SUM_W-1:0] acc_ext;
    wire signed [SUM_W-1:0] sum;
    wire signed [ACC_W-1:0] acc_d;

    generate
        if (X_SIGNED != 0) begin : g_x_signed
            assign x_ext = {{(SUM_W - X_W){s_x[X_W-1]}}, s_x};
        end else begin : g_x_unsigned
            assign x_ext = {{(SUM_W - X_W){1'b0}}, s_x};
        end
        if (SATURATE != 0) begin : g_sat
            assign acc_ext = {{(SUM_W - ACC_W){acc_q[ACC_W-1]}}, acc_q};
            // In range when the bits above the result's sign bit all equal the sign.
            wire in_range = (sum[SUM_W-1:ACC_W-1] == {(SUM_W - ACC_W + 1){1'b0}})
                          | (sum[SUM_W-1:ACC_W-1] == {(SUM_W - ACC_W + 1){1'b1}});
            assign acc_d = in_range ? sum[ACC_W-1:0]
                                    : {sum[SUM_W-1], {(ACC_W - 1){~sum[SUM_W-1]}}};
        end else begin : g_wrap
            assign acc_ext = acc_q;
            assign acc_d   = sum;
        end
    endgenerate

    ternary_addsub #(.W(SUM_W)) u_addsub (
        .acc (acc_ext),
        .x   (x_ext),
        .code(s_code),
        .sum (sum)
    );

    always @(posedge clk) begin
        if (rst) begin
            m_valid_q <= 1'b0;
            acc_q     <= {ACC_W{1'b0}};
        end else begin
            if (m_ready) m_valid_q <= 1'b0;
            if (fire) begin
                acc_q <= s_last ? {ACC_W{1'b0}} : acc_d;
                if (s_last) m_valid_q <= 1'b1;
            end
        end
    end

    // Result register: datapath, no reset (qualified by m_valid).
    always @(posedge clk) begin
        if (fire & s_last) m_acc_q <= acc_d;
    end

`ifndef SYNTHESIS
    initial begin
        if (SATURATE == 0 && XS_W >= ACC_W) begin
            $display("ternary_acc: ERROR: SATURATE=0 needs ACC_W > X_W%s (ACC_W=%0d, X_W=%0d)",
                     X_SIGNED ? "" : " + 1", ACC_W, X_W);
            $finish;
        end
    end
    always @(posedge clk) begin
        if (!rst && fire && s_code == 2'b10)
            $display("ternary_acc: WARNING: illegal code 10 at %0t (acts as skip)", $time);
    end
`endif

endmodule

`default_nettype wire
