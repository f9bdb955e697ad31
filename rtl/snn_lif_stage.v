// snn_lif_stage: the hidden LIF update of snn_engine, P_LIF neurons per cycle.
//
// Each issued beat (i_valid, stage 0) is P_LIF neurons j .. j+P_LIF-1 at step t, bank address
// i_k (0 .. GRP-1, GRP = membranes per lane of one group); their currents arrive one cycle
// later (i_cur, stage 1). Lane p keeps its membranes in a bank of GRP words (ram_sdp, or the
// pipeline's own register when GRP = 2) and runs lif_pipe (docs/arithmetic.md section 4).
//
//   stage 0  hidden-bias read (HAS_BIAS = 1)
//   stage 1  membrane read; current (+ bias) into a register
//   stage 2  t = 0 select (membrane 0), lif_pipe stage 1
//   stage 3  lif_pipe stage 2; col_re/col_j: the output layer reads columns j .. j+P_LIF-1
//   stage 4  membrane write (from a register); o_valid/o_spike/o_v: the spikes and membranes
//            after the step (for the scores and the trace); o_beat: every beat, padding
//            included (for the spike raster, which takes whole groups)
//
// A neuron's membrane is written in stage 4 and read again GRP cycles after its previous read,
// so GRP >= 4 reads it from the bank; GRP = 2 takes it from the stage-4 register. i_real = 0
// marks padding neurons (j >= N_HID in a last group that is not full): they run like the
// others and nothing of them leaves the stage (col_re, o_valid low).
//
// threshold is a port (one network layer's threshold, constant while its beats are in
// flight); leak, reset mode and the widths are parameters.
//
// LIF_SPLIT = 1 (wide membranes, chosen by snn_engine): the bank holds each membrane after the
// next step's leak, computed from the stage-4 register as it is written, so lif_pipe (SPLIT = 1)
// takes it as v1 and stage 2 holds only the two integrate chains, stage 3 only the select.
// Same stages, same cycles, same outputs (o_v is the membrane itself).
`default_nettype none

module snn_lif_stage #(
    parameter N_HID          = 128,  // hidden neurons (bias memory depth, neuron index width)
    parameter ACC_W          = 19,   // current width
    parameter MEM_W          = 21,   // membrane width (saturating)
    parameter LEAK_SHIFT     = 4,    // leak v - (v >>> LEAK_SHIFT); 0 = no leak
    parameter RESET_SUBTRACT = 1,    // 1: subtract the threshold on a spike; 0: reset to zero
    parameter P_LIF          = 1,    // lanes
    parameter GRP            = 16,   // membranes per lane (power of 2, >= 2)
    parameter HAS_BIAS       = 0,    // 1: hidden biases, added to the current
    parameter B0_FILE        = "",   // bias image ($readmemh, N_HID words of ACC_W bits)
    parameter LIF_SPLIT      = 0     // 1: the bank holds leaked membranes (lif_pipe SPLIT = 1)
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire [MEM_W-1:0]         threshold,
    // hidden-bias write port (HAS_BIAS = 1)
    input  wire                     b_we,
    input  wire [((N_HID > 2) ? $clog2(N_HID) : 1)-1:0] b_addr,
    input  wire [ACC_W-1:0]         b_data,
    // stage 0: the beat
    input  wire                     i_valid,
    input  wire                     i_first,  // t = 0: the membranes start at 0
    input  wire                     i_real,   // 0: padding neurons
    input  wire [((N_HID > 2) ? $clog2(N_HID) : 1)-1:0] i_j,
    input  wire [((GRP > 2) ? $clog2(GRP) : 1)-1:0] i_k,
    input  wire [7:0]               i_t,
    // stage 1: the beat's currents
    input  wire [P_LIF*ACC_W-1:0]   i_cur,
    // stage 3: output-layer column read
    output wire                     col_re,
    output wire [((N_HID > 2) ? $clog2(N_HID) : 1)-1:0] col_j,
    // stage 4: results
    output wire                     o_valid,
    output wire                     o_beat,   // every beat, padding neurons included (o_valid: real ones)
    output wire [7:0]               o_t,
    output wire [((N_HID > 2) ? $clog2(N_HID) : 1)-1:0] o_j,
    output wire [P_LIF-1:0]         o_spike,
    output wire [P_LIF*MEM_W-1:0]   o_v
);

    localparam HID_AW = (N_HID > 2) ? $clog2(N_HID) : 1;
    localparam GRP_AW = (GRP > 2) ? $clog2(GRP) : 1;

`ifndef SYNTHESIS
    initial begin
        if (GRP < 2 || (GRP & (GRP - 1)) != 0) begin
            $display("snn_lif_stage: GRP %0d must be a power of 2 >= 2", GRP); $finish;
        end
        if (P_LIF < 1 || (P_LIF & (P_LIF - 1)) != 0 || N_HID % P_LIF != 0) begin
            $display("snn_lif_stage: P_LIF %0d must be a power of 2 dividing N_HID %0d", P_LIF, N_HID);
            $finish;
        end
    end
`endif

    reg                      s1_valid_q, s1_first_q, s1_real_q;
    reg  [HID_AW-1:0]        s1_j_q;
    reg  [GRP_AW-1:0]        s1_k_q;
    reg  [7:0]               s1_t_q;
    reg                      s2_valid_q, s2_first_q, s2_real_q;
    reg  [HID_AW-1:0]        s2_j_q;
    reg  [GRP_AW-1:0]        s2_k_q;
    reg  [7:0]               s2_t_q;
    reg  [P_LIF*ACC_W-1:0]   s2_cur_q;
    reg                      s3_valid_q, s3_real_q;
    reg  [HID_AW-1:0]        s3_j_q;
    reg  [GRP_AW-1:0]        s3_k_q;
    reg  [7:0]               s3_t_q;
    reg                      s4_valid_q, s4_real_q;
    reg  [HID_AW-1:0]        s4_j_q;
    reg  [GRP_AW-1:0]        s4_k_q;
    reg  [7:0]               s4_t_q;
    reg  [P_LIF-1:0]         s4_spike_q;
    reg  [P_LIF*MEM_W-1:0]   s4_v_q;
    wire [P_LIF*MEM_W-1:0]   v_next;
    wire [P_LIF-1:0]         spike;
    wire [P_LIF*ACC_W-1:0]   s1_cur;   // current of stage 1, plus the bias

    genvar q;
    generate
        for (q = 0; q < P_LIF; q = q + 1) begin : g_lane
            localparam integer      Q_I = q;
            localparam [HID_AW-1:0] Q_J = Q_I[HID_AW-1:0];
            wire [MEM_W-1:0]        v_prev;
            wire signed [MEM_W-1:0] v_old = s2_first_q ? {MEM_W{1'b0}} : v_prev;
            wire signed [MEM_W-1:0] v_new;
            wire signed [ACC_W-1:0] cur = s2_cur_q[q*ACC_W +: ACC_W];
            wire signed [MEM_W-1:0] v_st;   // what the bank keeps of the stage-4 membrane
            if (LIF_SPLIT == 0 || LEAK_SHIFT == 0) begin : g_st
                assign v_st = s4_v_q[q*MEM_W +: MEM_W];
            end else begin : g_st_leak
                wire signed [MEM_W-1:0] v4 = s4_v_q[q*MEM_W +: MEM_W];
                assign v_st = v4 - (v4 >>> LEAK_SHIFT);   // the next step's leak
            end
            if (GRP == 2) begin : g_fwd
                assign v_prev = v_st;
            end else begin : g_bank
                ram_sdp #(.DATA_W(MEM_W), .DEPTH(GRP), .INIT_FILE("")) u_mem (
                    .clk(clk), .we(s4_valid_q), .waddr(s4_k_q), .wdata(v_st),
                    .re(s1_valid_q), .raddr(s1_k_q), .rdata(v_prev)
                );
            end
            lif_pipe #(
                .MEM_W(MEM_W), .CUR_W(ACC_W), .LEAK_SHIFT(LEAK_SHIFT), .RESET_SUBTRACT(RESET_SUBTRACT),
                .SPLIT(LIF_SPLIT)
            ) u_lif (
                .clk(clk), .ce(1'b1), .v(v_old), .cur(cur), .threshold(threshold),
                .v_next(v_new), .spike(spike[q])
            );
            assign v_next[q*MEM_W +: MEM_W] = v_new;
            if (HAS_BIAS != 0) begin : g_bias
                wire [ACC_W-1:0] b_rd;
                ram_sdp #(.DATA_W(ACC_W), .DEPTH(N_HID), .INIT_FILE(B0_FILE)) u_b0 (
                    .clk(clk), .we(b_we), .waddr(b_addr), .wdata(b_data),
                    .re(i_valid), .raddr(i_j | Q_J), .rdata(b_rd)
                );
                assign s1_cur[q*ACC_W +: ACC_W] = i_cur[q*ACC_W +: ACC_W] + b_rd;
            end else begin : g_nobias
                assign s1_cur[q*ACC_W +: ACC_W] = i_cur[q*ACC_W +: ACC_W];
            end
        end
        if (HAS_BIAS == 0) begin : g_nob
            wire unused_b = &{b_we, b_addr, b_data, 1'b0};
        end
        if (GRP == 2) begin : g_nok
            wire unused_k = &{s4_k_q, s1_k_q, 1'b0};
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            s1_valid_q <= 1'b0;
            s2_valid_q <= 1'b0;
            s3_valid_q <= 1'b0;
            s4_valid_q <= 1'b0;
        end else begin
            s1_valid_q <= i_valid;
            s2_valid_q <= s1_valid_q;
            s3_valid_q <= s2_valid_q;
            s4_valid_q <= s3_valid_q;
        end
        s1_first_q <= i_first;
        s1_real_q  <= i_real;
        s1_j_q     <= i_j;
        s1_k_q     <= i_k;
        s1_t_q     <= i_t;
        s2_first_q <= s1_first_q;
        s2_real_q  <= s1_real_q;
        s2_j_q     <= s1_j_q;
        s2_k_q     <= s1_k_q;
        s2_t_q     <= s1_t_q;
        s2_cur_q   <= s1_cur;
        s3_real_q  <= s2_real_q;
        s3_j_q     <= s2_j_q;
        s3_k_q     <= s2_k_q;
        s3_t_q     <= s2_t_q;
        s4_real_q  <= s3_real_q;
        s4_j_q     <= s3_j_q;
        s4_k_q     <= s3_k_q;
        s4_t_q     <= s3_t_q;
        s4_spike_q <= spike;
        s4_v_q     <= v_next;
    end

    assign col_re  = s3_valid_q & s3_real_q;
    assign col_j   = s3_j_q;
    assign o_valid = s4_valid_q & s4_real_q;
    assign o_beat  = s4_valid_q;
    assign o_t     = s4_t_q;
    assign o_j     = s4_j_q;
    assign o_spike = s4_spike_q;
    assign o_v     = s4_v_q;

endmodule

`default_nettype wire
