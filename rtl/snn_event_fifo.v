// snn_event_fifo: zero skip and the input event FIFO of snn_engine, with image replay.
//
// Write side: a pixel counter tags each accepted pixel with its index; only nonzero pixels are
// written (one cycle after they are accepted, from a register), as {last, pixel, index}; the last pixel of an image is always written, with last = 1
// (even when it is zero). A count of complete images held (img_ready) lets the engine start an
// image only when all of its entries are present.
//
// Read side, one entry per cycle: rd reads the entry at the read pointer, which appears on
// e_valid/e_last/e_pix/e_idx in the next cycle (the RAM's read register). After an image's last
// entry has appeared, further reads return nothing (e_valid low) until rewind. rewind puts the
// read pointer back to the image's first entry, so the engine can pass over the image's events
// once per group of hidden neurons (replay). In the pass with release = 1 (the last one) every
// entry frees its slot as it appears, and the image's last entry ends the image: the read
// pointer's rewind point moves to the next image. rd, rewind and release come from registers
// of the engine; rewind must not coincide with rd.
//
// s_ready drops only when all DEPTH entries hold unreleased entries; an image has at most N_IN
// entries, so DEPTH >= N_IN never deadlocks. rst (synchronous) empties the FIFO.
`default_nettype none

module snn_event_fifo #(
    parameter N_IN  = 784,   // pixels per image (>= 1)
    parameter DEPTH = 1024   // entries (power of 2, >= N_IN)
) (
    input  wire                                  clk,
    input  wire                                  rst,
    // pixel stream
    input  wire                                  s_valid,
    output wire                                  s_ready,
    input  wire [7:0]                            s_data,
    // event read side
    input  wire                                  rd,
    input  wire                                  rewind,
    input  wire                                  release_pass,
    output wire                                  e_valid,
    output wire                                  e_last,
    output wire [7:0]                            e_pix,
    output wire [((N_IN > 2) ? $clog2(N_IN) : 1)-1:0] e_idx,
    // a complete image is held
    output wire                                  img_ready
);

    localparam IDX_W = (N_IN > 2) ? $clog2(N_IN) : 1;
    localparam AW    = (DEPTH > 2) ? $clog2(DEPTH) : 1;
    localparam ENT_W = 1 + 8 + IDX_W;                 // {last, pixel, index}
    localparam integer     D_I      = DEPTH;
    localparam integer     D_LAST_I = DEPTH - 1;
    localparam [AW:0]      CNT_FULL = D_I[AW:0];
    localparam [AW:0]      CNT_LAST = D_LAST_I[AW:0];
    localparam [AW:0]      CNT_ONE  = {{AW{1'b0}}, 1'b1};
    localparam integer     D_LAST2_I = DEPTH - 2;
    localparam [AW:0]      CNT_LAST2 = D_LAST2_I[AW:0];
    localparam integer     PP_I     = N_IN - 2;
    localparam [IDX_W-1:0] PIX_PREV = PP_I[IDX_W-1:0];  // the pixel before the last (N_IN >= 2)

`ifndef SYNTHESIS
    initial begin
        if ((1 << AW) != DEPTH || DEPTH < N_IN || N_IN < 1) begin
            $display("snn_event_fifo: DEPTH must be a power of 2 >= N_IN >= 1, got %0d, %0d", DEPTH, N_IN);
            $finish;
        end
    end
`endif

    // ------------------------------------------------------------ write side
    reg  [IDX_W-1:0] pix_q;            // index of the next pixel
    reg              pix_last_q;       // pix_q == PIX_LAST
    reg  [AW-1:0]    wptr_q;
    reg  [AW:0]      cnt_q;            // entries held (written, not released)
    reg              nf_q;             // cnt_q != DEPTH
    reg  [AW:0]      img_cnt_q;        // complete images held
    reg              img_ne_q;         // img_cnt_q != 0
    reg              img_in_q;         // an image's last entry was written last cycle

    reg              we_q;             // an accepted entry is written this cycle
    reg  [ENT_W-1:0] wdata_q;          // ... this one
    wire             s_fire  = s_valid & nf_q;
    wire             we      = s_fire & ((s_data != 8'd0) | pix_last_q);  // accepted entry
    assign s_ready = nf_q;

    // ------------------------------------------------------------ read side
    reg  [AW-1:0]    rptr_q;           // next entry to read
    reg  [AW-1:0]    base_q;           // first entry of the image being read
    reg  [AW-1:0]    raddr_q;          // address of the entry in the read register
    reg              rd_q;             // the RAM was read last cycle
    reg              past_q;           // the image's last entry has appeared (until rewind)
    wire [ENT_W-1:0] rdata;
    assign e_valid = rd_q & ~past_q;
    assign e_last  = rdata[ENT_W-1];
    assign e_pix   = rdata[IDX_W +: 8];
    assign e_idx   = rdata[IDX_W-1:0];
    wire             free    = e_valid & release_pass;     // one slot released
    wire             img_out = free & e_last;              // an image leaves

    ram_sdp #(.DATA_W(ENT_W), .DEPTH(DEPTH), .INIT_FILE("")) u_ram (
        .clk(clk), .we(we_q), .waddr(wptr_q), .wdata(wdata_q),
        .re(rd), .raddr(rptr_q), .rdata(rdata)
    );

    // flags of the next counts from comparisons of the current ones (no adder in the path).
    // Not full next cycle: cnt_q + we_q - free (entries written then) + we (pending then) < DEPTH,
    // with every accepted pixel (s_fire) counted as pending, written or not: the pixel's nonzero
    // test stays out of the flag's path (it was the critical path, 6 levels from pix_last_q).
    // A zero pixel accepted next to full drops the flag for one cycle early, never late: while
    // the flag is low nothing is accepted and the next value is exact, so no entry is lost and
    // the input never stalls for good (formal/snn_engine_props.v states both bounds).
    wire nf_d     = ~(((cnt_q == CNT_FULL) & ~(free & ~s_fire))
                    | ((cnt_q == CNT_LAST) & ((we_q & s_fire) | ((we_q ^ s_fire) & ~free)))
                    | ((cnt_q == CNT_LAST2) & we_q & s_fire & ~free));
    wire img_ne_d = ~(((img_cnt_q == {(AW+1){1'b0}}) & ~img_in_q)
                    | ((img_cnt_q == CNT_ONE) & img_out & ~img_in_q));

    always @(posedge clk) begin
        if (rst) begin
            pix_q      <= {IDX_W{1'b0}};
            pix_last_q <= (N_IN == 1);
            wptr_q     <= {AW{1'b0}};
            cnt_q      <= {(AW+1){1'b0}};
            nf_q       <= 1'b1;
            we_q       <= 1'b0;
            img_cnt_q  <= {(AW+1){1'b0}};
            img_ne_q   <= 1'b0;
            img_in_q   <= 1'b0;
            rptr_q     <= {AW{1'b0}};
            base_q     <= {AW{1'b0}};
            rd_q       <= 1'b0;
            past_q     <= 1'b0;
        end else begin
            if (s_fire) begin
                pix_q      <= pix_last_q ? {IDX_W{1'b0}} : pix_q + 1'b1;
                pix_last_q <= (N_IN == 1) | (~pix_last_q & (pix_q == PIX_PREV));
            end
            we_q      <= we;
            if (we_q) wptr_q <= wptr_q + 1'b1;
            cnt_q     <= cnt_q + {{AW{free & ~we_q}}, free ^ we_q};      // +1, -1 or 0: one carry chain
            nf_q      <= nf_d;
            img_in_q  <= we_q & wdata_q[ENT_W-1];
            img_cnt_q <= img_cnt_q + {{AW{img_out & ~img_in_q}}, img_out ^ img_in_q};
            img_ne_q  <= img_ne_d;
            rd_q      <= rd;
            if (rewind) rptr_q <= base_q;
            else if (rd) rptr_q <= rptr_q + 1'b1;
            if (rewind) past_q <= 1'b0;
            else if (e_valid & e_last) past_q <= 1'b1;
            if (img_out) base_q <= raddr_q + 1'b1;
        end
        if (rd) raddr_q <= rptr_q;
        wdata_q <= {pix_last_q, s_data, pix_q};
    end

    assign img_ready = img_ne_q;

endmodule

`default_nettype wire
