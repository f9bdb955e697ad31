// top_engine: timing and area top of snn_engine for iCE40 place and route (registered I/O).
//
// Purpose: nextpnr reports Fmax over register-to-register paths only, so every pin of this
// top goes to or comes from a flip-flop, and every engine path lies between flip-flops.
// The engine has too many ports for the UP5K SG48 package (39 I/O): the 64-bit weight
// write port and the N_OUT*SCORE_W score bits are reduced as follows, without letting
// Yosys remove any engine logic:
//   * weight loader: in_sdata shifts (while in_sel is high) into a W0_AW+64-bit register
//     that drives w_addr/w_data; in_load writes it (w_we). The write path to the SPRAMs
//     (or EBR) is therefore driven by real registers, never by constants.
//   * scores: all N_OUT*SCORE_W bits are XOR-folded into 8 bits (out_fold). XOR is
//     invertible in each input bit, so every score bit reaches a pin: no score adder or
//     register is unobservable and none can be optimised away.
//   * class, valid/ready: registered at the pins.
// Pixel input: pins are registered, then a 4-entry FIFO absorbs the beats in flight, so
// in_ready can be a register too (set from the entry count of the cycle before: high after
// a cycle with at most 1 entry used, so at most 3 entries are ever used); the engine's s_valid/s_data come
// from a register loaded from the FIFO head (a beat leaves it when s_ready is high). Output: one result register; the
// engine's m_ready is "register empty"; a result leaves when the registered out_ready is
// high (a sink keeps out_ready high to take results). The top is a faithful data path for
// timing and area; the engine's own interface (docs/engine.md) is what a system uses.
// Costs (part of every reported figure): ~80 + W0_AW flip-flops, a few dozen LUT4.
//
// Parameters come from the exported net_params.vh (`SNN_* macros).
`default_nettype none
`include "net_params.vh"
`ifndef SNN_HAS_BIAS  // exports written before biases existed
`define SNN_HAS_BIAS 0
`define SNN_B0_FILE ""
`define SNN_B1_FILE ""
`endif
`ifndef SNN_N_LAYERS  // one hidden layer: export writes no depth macros
`define SNN_N_LAYERS 1
`define SNN_N_HID_L 48'h0
`define SNN_ACC_W_L 24'h0
`define SNN_MEM_W_L 24'h0
`define SNN_THRESHOLD_L 192'h0
`define SNN_LEAK_SHIFT_L 24'h0
`define SNN_RESET_SUBTRACT_L 3'h0
`endif

module top_engine #(
    parameter W0_SPRAM = 1,  // 1: layer-0 weights in the UP5K SPRAMs, 0: in EBR (HX8K)
    parameter LANES    = 0,  // engine accumulation lanes (0: the engine's default)
    parameter P_LIF    = 1   // engine LIF lanes
) (
    input  wire                 clk,
    input  wire                 rst,        // synchronous, active high (synchronised here)
    input  wire                 in_valid,   // pixel stream
    input  wire [7:0]           in_data,
    output reg                  in_ready,
    output reg                  out_valid,  // result stream
    input  wire                 out_ready,
    output reg  [`SNN_CLS_W-1:0] out_class,
    output reg  [7:0]           out_fold,   // XOR fold of all scores
    input  wire                 in_sel,     // weight loader: shift enable
    input  wire                 in_sdata,   //                serial address/data
    input  wire                 in_load     //                write the shifted word
);

    localparam AW  = `SNN_W0_AW;
    localparam BAW = (`SNN_N_HID + `SNN_N_OUT > 2) ? $clog2(`SNN_N_HID + `SNN_N_OUT) : 1;
    localparam SW  = `SNN_N_OUT * `SNN_SCORE_W;
    localparam NCH = (SW + 7) / 8;
    localparam FIFO_DEPTH = 1 << $clog2(`SNN_N_IN);  // engine event FIFO: N_IN rounded up to 2^k

    // ------------------------------------------------------------------ reset synchroniser
    reg rst_m, rst_q;
    always @(posedge clk) begin
        rst_m <= rst;
        rst_q <= rst_m;
    end

    // ------------------------------------------------------------------ pixel input
    reg       iv_q;
    reg [7:0] id_q;
    always @(posedge clk) begin
        iv_q <= in_valid & in_ready;
        id_q <= in_data;
    end

    reg  [7:0] fifo_mem [0:3];
    reg  [1:0] wp_q, rp_q;
    reg  [2:0] cnt_q;
    wire       s_ready;
    wire       push = iv_q;
    reg        ov_q;                                   // engine input register: valid
    reg  [7:0] od_q;                                   //                        pixel
    wire       pop  = (cnt_q != 3'd0) & (~ov_q | s_ready);  // head into the input register
    wire [2:0] cnt_d = cnt_q + {2'b00, push} - {2'b00, pop};

    always @(posedge clk) begin
        if (push) fifo_mem[wp_q] <= id_q;
        if (pop) od_q <= fifo_mem[rp_q];
        if (rst_q) begin
            ov_q     <= 1'b0;
            wp_q     <= 2'd0;
            rp_q     <= 2'd0;
            cnt_q    <= 3'd0;
            in_ready <= 1'b0;
        end else begin
            if (push) wp_q <= wp_q + 2'd1;
            if (pop) rp_q <= rp_q + 2'd1;
            cnt_q    <= cnt_d;
            ov_q     <= pop | (ov_q & ~s_ready);
            in_ready <= (cnt_q < 3'd2);
        end
    end

    // ------------------------------------------------------------------ weight loader
    reg          sel_q, sd_q, ld_q;
    reg [AW+63:0] wsh_q;
    always @(posedge clk) begin
        sel_q <= in_sel;
        sd_q  <= in_sdata;
        ld_q  <= in_load;
        if (sel_q) wsh_q <= {wsh_q[AW+62:0], sd_q};
    end

    // ------------------------------------------------------------------ engine
    wire                  m_valid;
    wire [`SNN_CLS_W-1:0] m_class;
    wire [SW-1:0]         m_scores;
    wire                  or_take;
    reg                   or_q;

    snn_engine #(
        .N_IN          (`SNN_N_IN),
        .N_HID         (`SNN_N_HID),
        .N_OUT         (`SNN_N_OUT),
        .T             (`SNN_T),
        .CODE_W0       (`SNN_CODE_W0),
        .CODE_W1       (`SNN_CODE_W1),
        .ACC_W         (`SNN_ACC_W),
        .MEM_W         (`SNN_MEM_W),
        .SCORE_W       (`SNN_SCORE_W),
        .THRESHOLD     (`SNN_THRESHOLD),
        .LEAK_SHIFT    (`SNN_LEAK_SHIFT),
        .RESET_SUBTRACT(`SNN_RESET_SUBTRACT),
        .LANES         (LANES),
        .P_LIF         (P_LIF),
        .FIFO_DEPTH    (FIFO_DEPTH),
        .W0_SPRAM      (W0_SPRAM),
        .W0_FILE       (`SNN_W0_FILE),
        .W1_FILE       (`SNN_W1_FILE),
        .HAS_BIAS      (`SNN_HAS_BIAS),   // biases from b0.hex/b1.hex in the bitstream
        .B0_FILE       (`SNN_B0_FILE),
        .B1_FILE       (`SNN_B1_FILE),
        .N_LAYERS      (`SNN_N_LAYERS),
        .N_HID_L       (`SNN_N_HID_L),
        .ACC_W_L       (`SNN_ACC_W_L),
        .MEM_W_L       (`SNN_MEM_W_L),
        .THRESHOLD_L   (`SNN_THRESHOLD_L),
        .LEAK_SHIFT_L  (`SNN_LEAK_SHIFT_L),
        .RESET_SUBTRACT_L(`SNN_RESET_SUBTRACT_L)
    ) u_engine (
        .clk        (clk),
        .rst        (rst_q),
        .s_valid    (ov_q),
        .s_ready    (s_ready),
        .s_data     (od_q),
        .m_valid    (m_valid),
        .m_ready    (~out_valid),
        .m_class    (m_class),
        .m_scores   (m_scores),
        .w_we       (ld_q),
        .w_addr     (wsh_q[AW+63:64]),
        .w_data     (wsh_q[63:0]),
        .w1_we      (1'b0),  // output-layer weights: from W1_FILE (EBR initialised by the bitstream)
        .w1_addr    ({`SNN_HID_AW{1'b0}}),
        .w1_data    ({`SNN_W1_DATA_W{1'b0}}),
        .b_we       (1'b0),            // biases stay as configured (the port is for system loaders)
        .b_addr     ({BAW{1'b0}}),
        .b_data     (64'd0),
        // status and trace outputs are for testbenches: left open on purpose
        /* verilator lint_off PINCONNECTEMPTY */
        .busy       (),
        .trace_valid(),
        .trace_t    (),
        .trace_n    (),
        .trace_spike(),
        .trace_v    (),
        .trace_layer()
        /* verilator lint_on PINCONNECTEMPTY */
    );

    // ------------------------------------------------------------------ result output
    wire [NCH*8-1:0] scores_pad;  // m_scores zero-extended to whole bytes
    generate
        if (NCH * 8 == SW) begin : g_pad_none
            assign scores_pad = m_scores;
        end else begin : g_pad
            assign scores_pad = {{(NCH * 8 - SW){1'b0}}, m_scores};
        end
    endgenerate
    reg  [7:0]       fold;
    integer          k;
    always @* begin
        fold = 8'd0;
        for (k = 0; k < NCH; k = k + 1) fold = fold ^ scores_pad[8*k +: 8];
    end

    assign or_take = out_valid & or_q;
    always @(posedge clk) begin
        or_q <= out_ready;
        if (m_valid & ~out_valid) begin
            out_class <= m_class;
            out_fold  <= fold;
        end
        if (rst_q) out_valid <= 1'b0;
        else if (m_valid & ~out_valid) out_valid <= 1'b1;
        else if (or_take) out_valid <= 1'b0;
    end

endmodule

`default_nettype wire
