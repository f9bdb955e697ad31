// snn_accum: the current accumulation of snn_engine for one group of LANES hidden neurons.
//
// Events (i, x) from the event FIFO read the weight word of pixel i that holds the group's
// codes (word i * WPR + (g * LANES) / CPW, CPW = 64 / CODE_W0 codes per word, the layout that
// export writes) and add code * x into LANES accumulators (flip-flops): ternary and binary
// through ternary_addsub / binary_addsub (one carry chain per lane), 4/8/16-bit codes through a
// registered mul_s per lane (an SB_MAC16 on the UP5K) and an adder.
//
// Pipeline of an event: cycle A (e_valid) the weight read is issued; cycle B the word arrives
// and the group's LANES codes are registered; cycle C the lanes add (multi-bit: C multiplies,
// D adds). done is high in the cycle after the last event's addition (e_last), when the
// accumulators hold the group's currents I0[j] = sum_i x_i q0[j, i] exactly.
//
// group (held stable while its events pass) selects the word and the codes of group g.
// load (one cycle, not while additions are in flight) copies the accumulators into LANES hold
// registers (load only: no multiplexer in front of them) and clears the accumulators (the
// flip-flops' synchronous reset).
// While the next group accumulates, the LIF stage reads the held currents P_LIF at a time:
// cur (registered) is chunk sel of the hold registers, neurons g*LANES + sel*P_LIF + p,
// one cycle after sel.
//
// Weights: spram64 (W0_SPRAM = 1, UP5K) or ram_sdp (W0_SPRAM = 0), written through
// w_we/w_addr/w_data (one 64-bit word per cycle, not while an image is computed).
`default_nettype none

module snn_accum #(
    parameter N_IN     = 784,   // inputs (pixels)
    parameter N_HID    = 128,   // hidden neurons
    parameter CODE_W0  = 2,     // code width: 1 binary, 2 ternary, 4, 8, 16
    parameter ACC_W    = 19,    // current width
    parameter LANES    = 16,    // accumulation lanes (power of 2 dividing 64 / CODE_W0)
    parameter P_LIF    = 1,     // currents per cur beat (divides LANES)
    parameter W0_SPRAM = 1,     // 1: spram64, 0: ram_sdp
    parameter W0_FILE  = "",    // weight image ($readmemh, 64-bit words)
    parameter N_LAYERS = 1,     // hidden layers (1..4); layers 1.. follow layer 0 in the image
    parameter [47:0] N_HID_L = 48'd0,  // neurons of hidden layers 1..3, 16 bits each
    // derived (the image of every hidden layer; do not override)
    parameter CPW_P    = 64 / CODE_W0,
    parameter N_H1     = (N_LAYERS > 1) ? N_HID_L[15:0] : 0,
    parameter N_H2     = (N_LAYERS > 2) ? N_HID_L[31:16] : 0,
    parameter N_H3     = (N_LAYERS > 3) ? N_HID_L[47:32] : 0,
    parameter W0_WORDS = N_IN * ((N_HID + CPW_P - 1) / CPW_P) + N_HID * ((N_H1 + CPW_P - 1) / CPW_P)
                       + N_H1 * ((N_H2 + CPW_P - 1) / CPW_P) + N_H2 * ((N_H3 + CPW_P - 1) / CPW_P),
    parameter W0_AW_P  = (W0_WORDS > 2) ? $clog2(W0_WORDS) : 1,
    // rows of any layer (pixels of layer 0, neurons of layer l-1 for layer l)
    parameter N_ROWS   = (N_H1 > 0 && N_HID > N_IN) ? ((N_H2 > 0 && N_H1 > N_HID) ? ((N_H3 > 0 && N_H2 > N_H1) ? N_H2 : N_H1)
                                                                               : ((N_H3 > 0 && N_H2 > N_HID) ? N_H2 : N_HID))
                                                  : ((N_H2 > 0 && N_H1 > N_IN) ? ((N_H3 > 0 && N_H2 > N_H1) ? N_H2 : N_H1)
                                                                               : ((N_H3 > 0 && N_H2 > N_IN) ? N_H2 : N_IN)),
    parameter IDX_W_P  = (N_ROWS > 2) ? $clog2(N_ROWS) : 1,
    // neurons of the largest hidden layer, and its groups
    parameter N_HMAX   = (N_HID > N_H1 ? (N_HID > N_H2 ? (N_HID > N_H3 ? N_HID : N_H3) : (N_H2 > N_H3 ? N_H2 : N_H3))
                                       : (N_H1 > N_H2 ? (N_H1 > N_H3 ? N_H1 : N_H3) : (N_H2 > N_H3 ? N_H2 : N_H3))),
    parameter G_W_P    = ((N_HMAX + LANES - 1) / LANES > 2) ? $clog2((N_HMAX + LANES - 1) / LANES) : 1
) (
    input  wire                       clk,
    input  wire                       rst,
    // weight write port
    input  wire                       w_we,
    input  wire [W0_AW_P-1:0]         w_addr,
    input  wire [63:0]                w_data,
    // events (the event FIFO's read register; for layers 1.., the spike raster's scan, x = 1)
    input  wire                       e_valid,
    input  wire                       e_last,
    input  wire [7:0]                 e_pix,
    input  wire [IDX_W_P-1:0]         e_idx,
    output wire                       done,
    // the hidden layer whose weights the events read (constant while its events pass)
    input  wire [1:0]                 layer,
    // group hand-over and the held currents
    input  wire [G_W_P-1:0]           group,
    input  wire                       load,
    input  wire [((LANES / P_LIF > 2) ? $clog2(LANES / P_LIF) : 1)-1:0] sel,
    output wire [P_LIF*ACC_W-1:0]     cur
);

    localparam CPW      = 64 / CODE_W0;                 // codes per weight word
    localparam WPR      = (N_HID + CPW - 1) / CPW;      // words per input row (layer 0)
    localparam W0_DEPTH = W0_WORDS;                     // words of every hidden layer
    localparam W0_AW    = W0_AW_P;
    localparam IDX_W    = IDX_W_P;
    localparam NG       = (N_HMAX + LANES - 1) / LANES; // groups of the largest layer
    localparam SUBS     = CPW / LANES;                  // groups per weight word
    localparam SUB_W    = (SUBS > 2) ? $clog2(SUBS) : 1;
    localparam WPRM     = (N_HMAX + CPW - 1) / CPW;       // words per row of the largest layer
    localparam WSEL_W   = (WPRM > 2) ? $clog2(WPRM) : 1;
    localparam NCH      = LANES / P_LIF;                // chunks of held currents
    localparam GRP_W    = LANES * CODE_W0;              // the group's codes
    localparam MULTI    = (CODE_W0 > 2) ? 1 : 0;
    localparam PROD_W   = 8 + CODE_W0;
    localparam integer      WPR_I     = WPR;
    localparam [W0_AW-1:0]  WPR_A     = WPR_I[W0_AW-1:0];
    localparam G_W      = (NG > 2) ? $clog2(NG) : 1;

`ifndef SYNTHESIS
    initial begin
        if (LANES < 1 || (LANES & (LANES - 1)) != 0 || CPW % LANES != 0) begin
            $display("snn_accum: LANES %0d must be a power of 2 dividing %0d", LANES, CPW); $finish;
        end
        if (P_LIF < 1 || LANES % P_LIF != 0) begin
            $display("snn_accum: P_LIF %0d must divide LANES %0d", P_LIF, LANES); $finish;
        end
        if (W0_SPRAM != 0 && W0_DEPTH > 16384) begin
            $display("snn_accum: %0d weight words exceed the 16384 of spram64; use W0_SPRAM=0", W0_DEPTH);
            $finish;
        end
        if (ACC_W < PROD_W + 1) begin
            $display("snn_accum: ACC_W %0d too small", ACC_W); $finish;
        end
    end
`endif

    // ------------------------------------------------------------ group position
    // group g: word g / SUBS of a row, codes (g % SUBS) * LANES .. of that word (bit fields of g)
    localparam SSH = (SUBS > 1) ? $clog2(SUBS) : 0;
    wire [G_W+SUB_W+WSEL_W-1:0] gx = {{(SUB_W+WSEL_W){1'b0}}, group};  // zero-extended
    wire [WSEL_W-1:0] word_q = gx[SSH +: WSEL_W];
    wire [SUB_W-1:0]  sub_q  = (SUBS > 1) ? gx[SUB_W-1:0] : {SUB_W{1'b0}};
    wire              unused_gx = &{gx, 1'b0};   // bits above the word index are 0

    // ------------------------------------------------------------ weight read (cycle A)
    wire [W0_AW-1:0] rd_addr0;   // layer 0: word i * WPR + w
    generate
        if ((WPR & (WPR - 1)) == 0 && WPR > 1) begin : g_addr_pow2  // i * WPR + w: concatenation
            // (zero-extended: with deeper layers the image is longer than layer 0)
            wire [W0_AW+IDX_W+$clog2(WPR)-1:0] cat = {{W0_AW{1'b0}}, e_idx, word_q[$clog2(WPR)-1:0]};
            wire unused_cat = &{cat, 1'b0};
            assign rd_addr0 = cat[W0_AW-1:0];
        end else if (WPR == 1) begin : g_addr_one
            wire [W0_AW+IDX_W-1:0] cat = {{W0_AW{1'b0}}, e_idx};
            wire unused_word = &{word_q, cat, 1'b0};
            assign rd_addr0 = cat[W0_AW-1:0];
        end else begin : g_addr_mul
            assign rd_addr0 = {{(W0_AW-IDX_W){1'b0}}, e_idx} * WPR_A + {{(W0_AW-WSEL_W){1'b0}}, word_q};
        end
    endgenerate
    // layers 1..: word BASE_l + j * WPR_l + w (the rows of each layer after those of the one before)
    // the read stage: layer 0's events read at once; a later layer's events first register their
    // address (base + row * WPR_l + word: an adder that must not sit between the raster and the
    // weight memory), so they read one cycle later
    wire [W0_AW-1:0] rd_addr;
    wire             rd_valid, rd_last;
    wire [7:0]       rd_pix;
    generate
        if (N_LAYERS == 1) begin : g_one_layer
            wire unused_layer = &{layer, 1'b0};
            assign rd_addr  = rd_addr0;
            assign rd_valid = e_valid;
            assign rd_last  = e_last;
            assign rd_pix   = e_pix;
        end else begin : g_layers
            localparam integer WPR1_I  = (N_H1 + CPW - 1) / CPW;
            localparam integer WPR2_I  = (N_H2 + CPW - 1) / CPW;
            localparam integer WPR3_I  = (N_H3 + CPW - 1) / CPW;
            localparam integer BASE1_I = N_IN * WPR;
            localparam integer BASE2_I = BASE1_I + N_HID * WPR1_I;
            localparam integer BASE3_I = BASE2_I + N_H1 * WPR2_I;
            localparam [W0_AW-1:0] WPR1_A  = WPR1_I[W0_AW-1:0];
            localparam [W0_AW-1:0] WPR2_A  = WPR2_I[W0_AW-1:0];
            localparam [W0_AW-1:0] WPR3_A  = WPR3_I[W0_AW-1:0];
            localparam [W0_AW-1:0] BASE1_A = BASE1_I[W0_AW-1:0];
            localparam [W0_AW-1:0] BASE2_A = BASE2_I[W0_AW-1:0];
            localparam [W0_AW-1:0] BASE3_A = BASE3_I[W0_AW-1:0];
            wire [W0_AW+IDX_W-1:0]  j_w = {{W0_AW{1'b0}}, e_idx};
            wire [W0_AW+WSEL_W-1:0] w_w = {{W0_AW{1'b0}}, word_q};
            wire [W0_AW-1:0] j_a = j_w[W0_AW-1:0];
            wire [W0_AW-1:0] w_a = w_w[W0_AW-1:0];
            wire unused_jw = &{j_w, w_w, 1'b0};
            reg  [W0_AW-1:0] addr_l;
            always @* begin
                case (layer)
                    2'd1:    addr_l = BASE1_A + j_a * WPR1_A + w_a;
                    2'd2:    addr_l = BASE2_A + j_a * WPR2_A + w_a;
                    default: addr_l = BASE3_A + j_a * WPR3_A + w_a;
                endcase
            end
            reg              d_valid_q, d_last_q;
            reg  [7:0]       d_pix_q;
            reg  [W0_AW-1:0] d_addr_q;
            always @(posedge clk) begin
                if (rst) d_valid_q <= 1'b0;
                else     d_valid_q <= e_valid & (layer != 2'd0);
                d_last_q <= e_last;
                d_pix_q  <= e_pix;
                d_addr_q <= addr_l;
            end
            wire deep = (layer != 2'd0);
            assign rd_addr  = deep ? d_addr_q : rd_addr0;
            assign rd_valid = deep ? d_valid_q : e_valid;
            assign rd_last  = deep ? d_last_q : e_last;
            assign rd_pix   = deep ? d_pix_q : e_pix;
        end
    endgenerate

    wire [63:0] w0_rdata;
    generate
        if (W0_SPRAM != 0) begin : g_w0_spram
            wire [13:0] sp_addr = w_we ? {{(14-W0_AW){1'b0}}, w_addr} : {{(14-W0_AW){1'b0}}, rd_addr};
            spram64 #(.INIT_FILE(W0_FILE)) u_w0 (
                .clk(clk), .we(w_we), .wmask(4'b1111), .addr(sp_addr), .wdata(w_data), .rdata(w0_rdata)
            );
        end else begin : g_w0_ebr
            ram_sdp #(.DATA_W(64), .DEPTH(W0_DEPTH), .INIT_FILE(W0_FILE)) u_w0 (
                .clk(clk), .we(w_we), .waddr(w_addr), .wdata(w_data),
                .re(rd_valid), .raddr(rd_addr), .rdata(w0_rdata)
            );
        end
    endgenerate

    // ------------------------------------------------------------ codes (cycle B)
    reg               a_valid_q, a_last_q;
    reg  [7:0]        a_pix_q;
    reg  [SUB_W-1:0]  a_sub_q;
    reg               b_valid_q, b_last_q;
    reg  [7:0]        b_pix_q;
    reg  [GRP_W-1:0]  codes_q;
    wire [GRP_W-1:0]  codes_sel;
    generate
        if (SUBS == 1) begin : g_whole
            wire unused_sub = &{a_sub_q, 1'b0};
            assign codes_sel = w0_rdata;
        end else begin : g_part
            assign codes_sel = w0_rdata[a_sub_q*GRP_W +: GRP_W];
        end
    endgenerate
    always @(posedge clk) begin
        if (rst) begin
            a_valid_q <= 1'b0;
            a_last_q  <= 1'b0;
            b_valid_q <= 1'b0;
            b_last_q  <= 1'b0;
        end else begin
            a_valid_q <= rd_valid;
            a_last_q  <= rd_valid & rd_last;
            b_valid_q <= a_valid_q;
            b_last_q  <= a_last_q;
        end
        a_pix_q <= rd_pix;
        a_sub_q <= sub_q;
        b_pix_q <= a_pix_q;
        codes_q <= codes_sel;
    end

    // ------------------------------------------------------------ lanes (cycle C, multi-bit C + D)
    wire add;                       // the lanes add this cycle
    reg  done_q;
    generate
        if (MULTI != 0) begin : g_multi_ctl
            reg c_valid_q, c_last_q;
            always @(posedge clk) begin
                if (rst) begin
                    c_valid_q <= 1'b0;
                    c_last_q  <= 1'b0;
                    done_q    <= 1'b0;
                end else begin
                    c_valid_q <= b_valid_q;
                    c_last_q  <= b_last_q;
                    done_q    <= c_last_q;
                end
            end
            assign add = c_valid_q;
        end else begin : g_addsub_ctl
            always @(posedge clk) begin
                if (rst) done_q <= 1'b0;
                else     done_q <= b_last_q;
            end
            assign add = b_valid_q;
        end
    endgenerate
    assign done = done_q;

    wire [LANES*ACC_W-1:0] accs;
    reg  [LANES*ACC_W-1:0] hold_q;
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            reg  signed [ACC_W-1:0] acc_q;
            wire [CODE_W0-1:0]      code = codes_q[l*CODE_W0 +: CODE_W0];
            wire signed [ACC_W-1:0] sum;
            if (CODE_W0 == 2) begin : g_ter
                ternary_addsub #(.W(ACC_W)) u_add (
                    .acc(acc_q), .x({{(ACC_W-8){1'b0}}, b_pix_q}), .code(code), .sum(sum)
                );
            end else if (CODE_W0 == 1) begin : g_bin
                binary_addsub #(.W(ACC_W)) u_add (
                    .acc(acc_q), .x({{(ACC_W-8){1'b0}}, b_pix_q}), .code(code[0]), .sum(sum)
                );
            end else begin : g_mul
                wire signed [PROD_W-1:0] prod;
                mul_s #(.A_W(8), .A_SIGNED(0), .B_W(CODE_W0)) u_mul (
                    .clk(clk), .ce(1'b1), .a(b_pix_q), .b(code), .p(prod)
                );
                assign sum = acc_q + {{(ACC_W-PROD_W){prod[PROD_W-1]}}, prod};
            end
            always @(posedge clk)
                if (rst | load) acc_q <= {ACC_W{1'b0}};
                else if (add) acc_q <= sum;
            assign accs[l*ACC_W +: ACC_W] = acc_q;
        end
    endgenerate

    // ------------------------------------------------------------ hold registers and the chunk select
    always @(posedge clk)
        if (load) hold_q <= accs;

    reg [P_LIF*ACC_W-1:0] cur_q;
    generate
        if (NCH == 1) begin : g_one_chunk
            wire unused_sel = &{sel, 1'b0};
            always @(posedge clk) cur_q <= hold_q;
        end else begin : g_chunks
            always @(posedge clk) cur_q <= hold_q[sel*(P_LIF*ACC_W) +: P_LIF*ACC_W];
        end
    endgenerate
    assign cur = cur_q;

endmodule

`default_nettype wire
